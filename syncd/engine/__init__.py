"""The sync engine: one page at a time through pull, normalize, match, resolve, push, record, checkpoint."""
