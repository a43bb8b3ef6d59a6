"""The demo blog post at /demo and the seed comments it starts with."""
