"""The closed-loop store: identity, sync state and the closed-loop event tables."""
