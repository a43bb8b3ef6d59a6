"""Projector services and their read models: thread view, like counts."""
