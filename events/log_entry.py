"""How an envelope is stored in the log: the fields of one stream entry.

Envelope v2 (what is written): three fields.

* `e`: the JSON of the envelope, compact, keys in a fixed order, `t` (type) first:
  `t` type, `v` schema version, `s` site, `th` thread, `n` thread version, `at` time (UTC,
  milliseconds), `a` actor id, `ak` actor kind (absent: anonymous), `am` true when the actor
  moderates, `c` command id, `r` correlation id and `u` causation id (absent: the command id),
  `k` the sealing key's id (absent: the actor), `d` the event's data without its defaults and
  without its sealed part.
* `p`: the sealed personal data as bytes, the 12-byte nonce then the AES-GCM ciphertext
  (absent for events without personal data).
* `h`: the chain hash, hex SHA-256 of the previous event's hash (hex), a newline, `e`, a
  newline and `p`: exactly what is stored, linked to what came before.

The event id is not stored (`derived_event_id`), nor the previous hash (the previous event's).

Envelope v1 (read, never written): one field `event`, the canonical JSON of every envelope
field (sorted keys), its `hash` over that JSON without `hash`.
"""

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from events.actors import Actor
from events.envelope import (
    EventEnvelope,
    derived_event_id,
    format_timestamp,
)
from events.thread_events import ThreadEvent

JSON_FIELD = "e"
SEALED_FIELD = "p"
HASH_FIELD = "h"
V1_FIELD = "event"
NONCE_BYTES = 12

EntryFields = Mapping[str, str | bytes] | Mapping[bytes, bytes]


@dataclass(frozen=True)
class StoredEntry:
    """The v2 fields of one entry, as XADD writes them."""

    json: bytes
    hash: str
    sealed: bytes | None = None

    def fields(self) -> dict[str, bytes | str]:
        fields: dict[str, bytes | str] = {JSON_FIELD: self.json, HASH_FIELD: self.hash}
        if self.sealed is not None:
            fields[SEALED_FIELD] = self.sealed
        return fields


@dataclass(frozen=True)
class EntryHead:
    """What verify, import and the signer need of an entry, without validating its event."""

    site: str
    thread: str
    version: int
    actor_id: str
    hash: str


class UnreadableEntry(ValueError):
    """An entry that is neither a v1 nor a v2 envelope."""


def as_bytes(value: str | bytes) -> bytes:
    """A stored value as its bytes. Connections decode with `surrogateescape`, so bytes that
    are not UTF-8 (sealed data) come back as text that encodes to exactly those bytes."""
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value


def field_value(fields: EntryFields, name: str) -> str | bytes | None:
    """The value of field `name`, whether the entry's keys are text or bytes; None if absent."""
    found = fields.get(name)  # type: ignore[call-overload]
    if found is None:
        found = fields.get(name.encode())  # type: ignore[call-overload]
    return found  # type: ignore[no-any-return]


def chain_hash_v2(previous_hash: str, json_part: bytes, sealed: bytes | None) -> str:
    """The v2 chain hash of an entry's stored bytes after `previous_hash`."""
    digest = hashlib.sha256(previous_hash.encode())
    digest.update(b"\n" + json_part + b"\n")
    if sealed is not None:
        digest.update(sealed)
    return digest.hexdigest()


def _stored(envelope: EventEnvelope) -> tuple[bytes, bytes | None]:
    """An envelope's v2 `e` and `p`."""
    data, sealed, key_id = _split_sealed(envelope.data)
    actor, command_id = envelope.actor, envelope.command_id
    head: dict[str, Any] = {
        "t": envelope.type,
        "v": envelope.schema_version,
        "s": envelope.site,
        "th": envelope.thread,
        "n": envelope.thread_version,
        "at": format_timestamp(envelope.occurred_at),
        "a": actor.id,
    }
    if actor.kind != "anonymous":
        head["ak"] = actor.kind
    if actor.moderator:
        head["am"] = True
    head["c"] = command_id
    if envelope.correlation_id != command_id:
        head["r"] = envelope.correlation_id
    if envelope.causation_id != command_id:
        head["u"] = envelope.causation_id
    if key_id is not None and key_id != actor.id:
        head["k"] = key_id
    if data:
        head["d"] = data
    return orjson.dumps(head), sealed


def _split_sealed(data: dict[str, Any]) -> tuple[dict[str, Any], bytes | None, str | None]:
    """The data without its sealed part, that part's bytes and its key id."""
    personal = data.get("personal")
    if not isinstance(personal, dict) or "ciphertext" not in personal:
        return data, None, None
    rest = {key: value for key, value in data.items() if key != "personal"}
    sealed = base64.b64decode(personal["nonce"]) + base64.b64decode(personal["ciphertext"])
    return rest, sealed, personal["key_id"]


def seal_envelope(
    *,
    event: ThreadEvent,
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
    """Wrap `event` in a v2 envelope linked to `prev_hash` (the thread's previous hash)."""
    unhashed = EventEnvelope.model_validate(
        {
            "event_id": derived_event_id(command_id, thread_version),
            "type": event.type,
            "schema_version": type(event).schema_version,
            "site": site,
            "thread": thread,
            "thread_version": thread_version,
            # (as stored: milliseconds, so that what is decided on equals what is replayed)
            "occurred_at": format_timestamp(occurred_at),
            "actor": actor,
            "command_id": command_id,
            "correlation_id": correlation_id,
            "causation_id": causation_id,
            "data": event.model_dump(mode="json", exclude={"type"}, exclude_defaults=True),
            "prev_hash": prev_hash,
            "hash": "",
        }
    )
    json_part, sealed = _stored(unhashed)
    return unhashed.model_copy(update={"hash": chain_hash_v2(prev_hash, json_part, sealed)})


def encode_entry(envelope: EventEnvelope) -> StoredEntry:
    """The v2 entry of an envelope made by `seal_envelope`."""
    json_part, sealed = _stored(envelope)
    return StoredEntry(json_part, envelope.hash, sealed)


def entry_json(fields: EntryFields) -> str:
    """The JSON part of an entry, v2's `e` or v1's `event` ("" when it has neither)."""
    found = field_value(fields, JSON_FIELD)
    if found is None:
        found = field_value(fields, V1_FIELD)
    return as_bytes(found or b"").decode(errors="replace")


def decode_entry(fields: EntryFields, position: str | None = None) -> EventEnvelope:
    """The envelope of a stored entry, v2 or v1; `position` is its entry id in the log.
    Raises ValueError (pydantic's ValidationError, or UnreadableEntry) when it is not one."""
    json_part = field_value(fields, JSON_FIELD)
    if json_part is None:
        return _decode_v1(fields, position)
    try:
        return _decode_v2(orjson.loads(json_part), fields, position)
    except (KeyError, TypeError, AttributeError) as error:
        raise UnreadableEntry(f"not a v2 envelope: {error!r}") from error


def _decode_v2(head: dict[str, Any], fields: EntryFields, position: str | None) -> EventEnvelope:
    data = head.get("d", {})
    sealed = field_value(fields, SEALED_FIELD)
    if sealed is not None:
        raw = as_bytes(sealed)
        data = {
            **data,
            "personal": {
                "key_id": head.get("k", head["a"]),
                "nonce": base64.b64encode(raw[:NONCE_BYTES]).decode(),
                "ciphertext": base64.b64encode(raw[NONCE_BYTES:]).decode(),
            },
        }
    command_id = head["c"]
    stored_hash = field_value(fields, HASH_FIELD)
    return EventEnvelope.model_validate(
        {
            "event_id": derived_event_id(command_id, head["n"]),
            "type": head["t"],
            "schema_version": head["v"],
            "site": head["s"],
            "thread": head["th"],
            "thread_version": head["n"],
            "occurred_at": head["at"],
            "actor": {
                "id": head["a"],
                "kind": head.get("ak", "anonymous"),
                "moderator": head.get("am", False),
            },
            "command_id": command_id,
            "correlation_id": head.get("r", command_id),
            "causation_id": head.get("u", command_id),
            "data": data,
            "hash": as_bytes(stored_hash).decode() if stored_hash is not None else "",
            "position": position,
        }
    )


# A v2 entry's JSON starts with its type.
_V2_TYPE = re.compile(rb'\{"t":"([A-Za-z]+)"')
# The end of a v1 envelope: canonical JSON sorts keys, and `type` sorts after every other key
# of an envelope, so the type is the last member. The `{` or `,` before it rules out a key that
# merely ends in `type` (its quote would be escaped).
_V1_TYPE_AT_END = re.compile(rb'[{,]"type":"([A-Za-z]+)"\}\Z')
_TAIL = 64


def entry_type(fields: EntryFields) -> str | None:
    """The event type of a stored entry, read without parsing it; None when it is not of
    the expected form (then only decoding it tells)."""
    json_part = field_value(fields, JSON_FIELD)
    if json_part is not None:
        found = _V2_TYPE.match(as_bytes(json_part))
    else:
        raw = field_value(fields, V1_FIELD)
        found = _V1_TYPE_AT_END.search(as_bytes(raw)[-_TAIL:]) if raw is not None else None
    return found.group(1).decode() if found else None


def stored_hash(fields: EntryFields) -> str:
    """The chain hash an entry holds (v2's `h` is read without parsing the JSON)."""
    found = field_value(fields, HASH_FIELD)
    if found is not None:
        return as_bytes(found).decode()
    return entry_head(fields).hash


def entry_head(fields: EntryFields) -> EntryHead:
    """Site, thread, version, actor and stored hash of an entry (UnreadableEntry if none)."""
    try:
        json_part = field_value(fields, JSON_FIELD)
        if json_part is not None:
            head = orjson.loads(json_part)
            stored_hash = as_bytes(field_value(fields, HASH_FIELD) or b"").decode()
            return EntryHead(head["s"], head["th"], int(head["n"]), head["a"], stored_hash)
        stored = orjson.loads(field_value(fields, V1_FIELD) or b"")
        return EntryHead(
            stored["site"],
            stored["thread"],
            int(stored["thread_version"]),
            stored["actor"]["id"],
            str(stored["hash"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise UnreadableEntry(str(error)) from error


def broken_link(
    fields: EntryFields, previous_version: int, previous_hash: str, head: EntryHead | None = None
) -> tuple[str, str, str] | None:
    """What breaks the chain from a thread's previous event (its version and hash: 0 and
    GENESIS_HASH before the first) to the stored entry, as (problem, expected, found); None
    when it links. `head` is the entry's, when the caller has read it already."""
    head = head or entry_head(fields)
    if head.version != previous_version + 1:
        return "version gap", str(previous_version + 1), str(head.version)
    actual = chained_hash(fields, previous_hash)
    if actual is None:
        return "prev_hash does not link", previous_hash, str(_v1_fields(fields).get("prev_hash"))
    if actual != head.hash:
        return "hash does not match content", actual, head.hash
    return None


def chained_hash(fields: EntryFields, previous_hash: str) -> str | None:
    """The hash the entry's content gives after `previous_hash`, recomputed, not read; None
    for a v1 entry that names another previous hash."""
    json_part = field_value(fields, JSON_FIELD)
    if json_part is not None:
        sealed = field_value(fields, SEALED_FIELD)
        return chain_hash_v2(
            previous_hash, as_bytes(json_part), as_bytes(sealed) if sealed is not None else None
        )
    stored = _v1_fields(fields)
    if stored.get("prev_hash") != previous_hash:
        return None
    return chain_hash_v1(stored)


# ---- v1 ----------------------------------------------------------------------------------

# Fields a v1 hash does not cover: the hash itself, and the log position.
_V1_UNHASHED = frozenset({"hash", "position"})


def canonical_json(value: Any) -> str:
    """v1's byte-exact JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash_v1(stored: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of a v1 envelope's fields, which include `prev_hash`."""
    covered = {key: value for key, value in stored.items() if key not in _V1_UNHASHED}
    return hashlib.sha256(canonical_json(covered).encode()).hexdigest()


def _v1_fields(fields: EntryFields) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(field_value(fields, V1_FIELD) or b"")
    return parsed


def _decode_v1(fields: EntryFields, position: str | None) -> EventEnvelope:
    raw = field_value(fields, V1_FIELD)
    if raw is None:
        raise UnreadableEntry("neither a v2 (`e`) nor a v1 (`event`) entry")
    stored = orjson.loads(raw)
    if position is not None:
        stored["position"] = position
    return EventEnvelope.model_validate(stored)
