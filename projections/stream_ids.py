"""Stream entry ids ("<ms>-<seq>") compared as numbers, not strings."""


def parse_stream_id(entry_id: str) -> tuple[int, int]:
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence or 0)


def is_after(entry_id: str, checkpoint: str | None) -> bool:
    return checkpoint is None or parse_stream_id(entry_id) > parse_stream_id(checkpoint)
