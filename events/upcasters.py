"""Upcasters: turn an event's data written under an old schema_version into the current one.

Register one function per (type, from_version); reading chains them up to the current version,
so the log is never rewritten when a schema evolves.
"""

from collections.abc import Callable
from typing import Any

from events.thread_events import EVENT_CLASSES

EventData = dict[str, Any]
Upcaster = Callable[[EventData], EventData]

_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownSchemaVersion(ValueError):
    """An event whose version cannot be brought to the current schema."""


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register `fn` as the step from `from_version` to `from_version + 1` for `event_type`."""

    def register(fn: Upcaster) -> Upcaster:
        _UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def upcast(event_type: str, schema_version: int, data: EventData) -> EventData:
    """Bring `data` from `schema_version` to the current version of `event_type`."""
    cls = EVENT_CLASSES.get(event_type)
    if cls is None:
        raise UnknownSchemaVersion(f"unknown event type {event_type!r}")
    current = cls.schema_version
    if schema_version > current:
        raise UnknownSchemaVersion(
            f"{event_type} v{schema_version} is newer than this code (v{current})"
        )
    version = schema_version
    while version < current:
        step = _UPCASTERS.get((event_type, version))
        if step is None:
            raise UnknownSchemaVersion(f"no upcaster for {event_type} v{version}")
        data = step(data)
        version += 1
    return data


@upcaster("CommentPosted", 1)
def _comment_posted_v1_to_v2(data: EventData) -> EventData:
    """v1 called the parent `in_reply_to` and had no markup field (it was always markdown)."""
    upgraded = {key: value for key, value in data.items() if key != "in_reply_to"}
    upgraded["parent_id"] = data.get("in_reply_to")
    upgraded.setdefault("markup", "markdown")
    return upgraded


@upcaster("CommentPosted", 2)
def _comment_posted_v2_to_v3(data: EventData) -> EventData:
    """Before v3 every comment was published on posting."""
    return {**data, "status": data.get("status", "approved")}


@upcaster("CommentPosted", 3)
def _comment_posted_v3_to_v4(data: EventData) -> EventData:
    """Before v4 no comment was held by a policy, and none had a fingerprint."""
    return {**data, "held_for": [], "fingerprint": None, "spam_score": None}
