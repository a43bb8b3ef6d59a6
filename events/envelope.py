"""The envelope: how one event is written to the log, with its place in the thread's hash chain."""

import hashlib
import json
import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from events.actors import Actor
from events.identifiers import LoggedMessageId, SiteId, ThreadId
from events.thread_events import ThreadEvent, thread_event_adapter
from events.upcasters import upcast

GENESIS_HASH = "0" * 64
# Fields that are not part of what the chain hash covers: the hash itself, and the log
# position, which the store assigns after the hash is computed.
_UNHASHED = frozenset({"hash", "position"})


class EventEnvelope(BaseModel):
    """One entry of `cs:{p}:events`. `data` is kept as written; `event()` upcasts it."""

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
    prev_hash: str
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


def canonical_json(value: Any) -> str:
    """The one byte-exact JSON form used for hashing: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an envelope's fields, which include `prev_hash`."""
    covered = {key: value for key, value in fields.items() if key not in _UNHASHED}
    return hashlib.sha256(canonical_json(covered).encode()).hexdigest()


def seal_envelope(
    *,
    event: ThreadEvent,
    event_id: str,
    site: str,
    thread: str,
    thread_version: int,
    occurred_at: datetime,
    actor: Actor,
    command_id: str,
    correlation_id: str,
    causation_id: str,
    prev_hash: str,
) -> EventEnvelope:
    """Wrap `event` in an envelope and link it to `prev_hash` (the thread's previous hash)."""
    data = event.model_dump(mode="json", exclude={"type"})
    fields: dict[str, Any] = {
        "event_id": event_id,
        "type": event.type,
        "schema_version": type(event).schema_version,
        "site": site,
        "thread": thread,
        "thread_version": thread_version,
        "occurred_at": format_timestamp(occurred_at),
        "actor": actor.model_dump(mode="json"),
        "command_id": command_id,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "data": data,
        "prev_hash": prev_hash,
    }
    fields["hash"] = chain_hash(fields)
    return EventEnvelope.model_validate(fields)


def encode_envelope(envelope: EventEnvelope) -> str:
    """The JSON stored in the log (without `position`, which is the entry id)."""
    return canonical_json(stored_fields(envelope))


def stored_fields(envelope: EventEnvelope) -> dict[str, Any]:
    """The envelope exactly as hashed and stored: JSON types, no position."""
    fields = envelope.model_dump(mode="json", exclude={"position"})
    fields["occurred_at"] = format_timestamp(envelope.occurred_at)
    return fields


# The end of a stored envelope: canonical JSON sorts keys, and `type` sorts after every other
# key of an envelope, so the type is the last member. The `{` or `,` before it rules out a key
# that merely ends in `type` (its quote would be escaped).
_TYPE_AT_END = re.compile(r'[{,]"type":"([A-Za-z]+)"\}\Z')
_TAIL = 64


def stored_type(raw: str | bytes) -> str | None:
    """The `type` of a stored envelope, read off its end without parsing the rest; None when
    the end is not of that form (then only parsing it tells)."""
    tail = raw[-_TAIL:]
    if isinstance(tail, bytes):
        tail = tail.decode(errors="replace")
    found = _TYPE_AT_END.search(tail)
    return found.group(1) if found else None


def decode_envelope(raw: str | bytes, position: str | None = None) -> EventEnvelope:
    """Parse one stored envelope; `position` is its entry id in the log."""
    return envelope_from_fields(orjson.loads(raw), position)


def envelope_from_fields(fields: dict[str, Any], position: str | None = None) -> EventEnvelope:
    """The envelope of already parsed JSON (to look at `type` before validating the rest)."""
    if position is not None:
        fields["position"] = position
    return EventEnvelope.model_validate(fields)


def broken_link(
    stored: dict[str, Any], previous_version: int, previous_hash: str
) -> tuple[str, str, str] | None:
    """What breaks the chain from a thread's previous event (its version and hash: 0 and
    GENESIS_HASH before the first) to the stored envelope `stored`, as (problem, expected,
    found); None when it links."""
    version = stored.get("thread_version")
    if version != previous_version + 1:
        return "version gap", str(previous_version + 1), str(version)
    if stored.get("prev_hash") != previous_hash:
        return "prev_hash does not link", previous_hash, str(stored.get("prev_hash"))
    actual = chain_hash(stored)
    if actual != stored.get("hash"):
        return "hash does not match content", actual, str(stored.get("hash"))
    return None
