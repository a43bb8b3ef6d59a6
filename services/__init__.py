"""Runnable processes: gateway, command processor, CLI and embedded runner."""
