"""Alerts: rules evaluated over the closed-loop store raise occurrences that reach people.

rules (what to watch) → evaluate (pure: rows in, occurrences out) → store (the outbox and each
rule's cursor, one transaction) → deliver (Salesforce Tasks for the owner, webhook posts).
"""
