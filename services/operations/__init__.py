"""Operators' and auditors' tools, all reading the log: history, verify, replay, export and import,
migration from other platforms, and their `commentstream` commands."""
