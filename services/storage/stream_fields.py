"""Reading stream entry fields, which arrive as bytes on FastStream's connection."""

from typing import Any


def text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def field(fields: dict[Any, Any], name: str) -> Any:
    """The value of `name` whether the keys are bytes or str, or None."""
    return fields.get(name.encode(), fields.get(name))
