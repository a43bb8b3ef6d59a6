"""The HTTP gateway: the public API of DESIGN.md, in front of the command and event streams."""
