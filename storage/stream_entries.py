"""Stream entries as Redis gives them: field names, bytes or text, and entry ids in order."""

COMMAND_FIELD = "command"
"""The field of a command stream entry that holds the command's JSON."""


def text(value: bytes | str) -> str:
    """A value read from Redis as text (FastStream's connection gives bytes)."""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def parse_stream_id(entry_id: str) -> tuple[int, int]:
    """An entry id ("<ms>-<seq>") as numbers, so that ids compare in log order."""
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence or 0)


def is_after(entry_id: str, checkpoint: str | None) -> bool:
    return checkpoint is None or parse_stream_id(entry_id) > parse_stream_id(checkpoint)
