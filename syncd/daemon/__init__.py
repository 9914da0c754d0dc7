"""The daemon: scheduling flows, keeping replicas from running one flow twice, stopping cleanly."""
