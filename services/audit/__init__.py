"""Operator and auditor tools, all reading the log: history, verify, replay, transfer, erasure."""
