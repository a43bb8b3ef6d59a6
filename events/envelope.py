"""The envelope: one event of the log, with its place in the thread's hash chain, as the code
uses it. How it is stored (v2, and v1 read back) is in events/log_entry.py."""

from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

from events.actors import Actor
from events.identifiers import LoggedMessageId, SiteId, ThreadId
from events.thread_events import ThreadEvent, thread_event_adapter
from events.upcasters import upcast

GENESIS_HASH = "0" * 64


class EventEnvelope(BaseModel):
    """One event of `cs:{p}:events`. `data` is kept as written; `event()` upcasts it.

    An envelope read from a v2 entry has no `prev_hash`: it is the previous event's `hash`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: LoggedMessageId
    type: str
    schema_version: int
    site: SiteId
    thread: ThreadId
    thread_version: int
    occurred_at: datetime
    actor: Actor
    command_id: LoggedMessageId
    correlation_id: LoggedMessageId
    causation_id: LoggedMessageId
    data: dict[str, Any]
    prev_hash: str | None = None
    hash: str
    position: str | None = None

    def event(self) -> ThreadEvent:
        """The typed event, upcast to the current schema version (parsed once, then kept)."""
        data, type_, version, event = self._typed_event
        if data is self.data and type_ == self.type and version == self.schema_version:
            return event
        del self.__dict__["_typed_event"]  # a copy made with other fields (model_copy)
        return self._typed_event[3]

    @cached_property
    def _typed_event(self) -> tuple[dict[str, Any], str, int, ThreadEvent]:
        data = upcast(self.type, self.schema_version, self.data)
        event = thread_event_adapter.validate_python({**data, "type": self.type})
        return self.data, self.type, self.schema_version, event


def format_timestamp(moment: datetime) -> str:
    """UTC, millisecond precision, `Z` suffix: the one timestamp form in the log."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def derived_event_id(command_id: str, thread_version: int) -> str:
    """A v2 event's id, not stored: one command appends to one thread, each event at a
    version of its own."""
    return f"{command_id}.{thread_version}"
