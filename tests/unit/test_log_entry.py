"""The stored envelope: v2 written and read back, its hash over exactly the stored bytes, v1
still read; both as Redis gives them (text with surrogate escapes, or bytes)."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema_rs
import orjson
import pytest

from events.actors import Actor
from events.envelope import GENESIS_HASH, EventEnvelope
from events.log_entry import (
    StoredEntry,
    UnreadableEntry,
    as_bytes,
    broken_link,
    chain_hash_v1,
    decode_entry,
    encode_entry,
    entry_head,
    seal_envelope,
)
from events.personal import PersonalData, new_author_key, seal, sealing_context, unseal
from events.thread_events import EVENT_CLASSES, CommentLiked, CommentPosted, ThreadStarted

ACTOR = Actor(id="anon:a")
KEY = new_author_key()
CONTEXT = sealing_context("default", "t", "c1")


def envelope_for(event, version: int, prev: str, **changes) -> EventEnvelope:  # type: ignore[no-untyped-def]
    fields = {
        "event": event,
        "site": "default",
        "thread": "t",
        "thread_version": version,
        "occurred_at": datetime(2026, 1, 1, 12, 30, 1, 234567, tzinfo=UTC),
        "actor": ACTOR,
        "command_id": "cmd",
        "correlation_id": "cmd",
        "causation_id": "cmd",
        "prev_hash": prev,
    }
    return seal_envelope(**(fields | changes))


def posted(body: str = "a body") -> CommentPosted:
    return CommentPosted(
        comment_id="c1", personal=seal(PersonalData(body=body), KEY, "anon:a", CONTEXT)
    )


def as_read(entry: StoredEntry) -> dict[str, str]:
    """The entry as a decode_responses connection with surrogateescape gives it back."""
    return {
        name: value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
        for name, value in entry.fields().items()
    }


def test_a_comment_is_stored_compactly_with_its_sealed_bytes_apart() -> None:
    envelope = envelope_for(posted(), 2, "f" * 64)
    entry = encode_entry(envelope)
    head = orjson.loads(entry.json)
    assert head == {
        "t": "CommentPosted",
        "v": CommentPosted.schema_version,
        "s": "default",
        "th": "t",
        "n": 2,
        "at": "2026-01-01T12:30:01.234Z",
        "a": "anon:a",
        "c": "cmd",
        "d": {"comment_id": "c1"},
    }
    assert entry.json.startswith(b'{"t":"CommentPosted",')
    sealed = envelope.event().personal
    assert entry.sealed == base64.b64decode(sealed.nonce) + base64.b64decode(sealed.ciphertext)  # type: ignore[union-attr]
    assert b"a body" not in entry.json + (entry.sealed or b"")


def test_what_is_left_out_is_what_another_field_says() -> None:
    moderator = Actor(id="sso:site:ed", kind="user", moderator=True)
    envelope = envelope_for(
        CommentLiked(comment_id="c1"), 3, "f" * 64, actor=moderator, correlation_id="corr"
    )
    head = orjson.loads(encode_entry(envelope).json)
    assert head["ak"] == "user" and head["am"] is True and head["r"] == "corr"
    assert "u" not in head and "k" not in head
    decoded = decode_entry(as_read(encode_entry(envelope)), "5-0")
    assert decoded.actor == moderator
    assert (decoded.correlation_id, decoded.causation_id) == ("corr", "cmd")
    assert decoded.event_id == envelope.event_id == "cmd.3"


def test_a_round_trip_gives_the_same_envelope_and_the_sealed_data_opens() -> None:
    envelope = envelope_for(posted("ünïcode ✓ body"), 2, "f" * 64)
    decoded = decode_entry(as_read(encode_entry(envelope)), "7-1")
    assert decoded.position == "7-1"
    assert decoded.model_dump(exclude={"position", "prev_hash"}) == envelope.model_dump(
        exclude={"position", "prev_hash"}
    )
    assert decoded.prev_hash is None  # the previous event's hash, not stored again
    event = decoded.event()
    assert isinstance(event, CommentPosted) and event.status == "approved"
    assert unseal(event.personal, KEY, CONTEXT).body == "ünïcode ✓ body"  # type: ignore[arg-type]
    as_bytes_keys = {
        name.encode(): as_bytes(value) for name, value in as_read(encode_entry(envelope)).items()
    }
    assert decode_entry(as_bytes_keys) == decode_entry(as_read(encode_entry(envelope)))  # type: ignore[arg-type]


def test_the_hash_covers_exactly_the_stored_bytes_after_the_previous_hash() -> None:
    previous = "f" * 64
    entry = encode_entry(envelope_for(posted(), 2, previous))
    expected = hashlib.sha256(
        previous.encode() + b"\n" + entry.json + b"\n" + (entry.sealed or b"")
    ).hexdigest()
    assert entry.hash == expected
    fields = as_read(entry)
    assert broken_link(fields, 1, previous) is None
    assert broken_link(fields, 1, GENESIS_HASH) == (
        "hash does not match content",
        *_two(fields, GENESIS_HASH),
    )
    assert broken_link(fields, 0, previous) == ("version gap", "1", "2")
    forged = fields | {"e": fields["e"].replace('"c1"', '"c2"')}
    assert broken_link(forged, 1, previous) is not None
    flipped = bytearray(entry.sealed or b"")
    flipped[-1] ^= 1
    tampered = as_read(StoredEntry(entry.json, entry.hash, bytes(flipped)))
    assert broken_link(tampered, 1, previous) is not None


def _two(fields: dict[str, str], previous: str) -> tuple[str, str]:
    actual = hashlib.sha256(
        previous.encode() + b"\n" + as_bytes(fields["e"]) + b"\n" + as_bytes(fields["p"])
    ).hexdigest()
    return actual, fields["h"]


def test_every_byte_value_survives_the_text_connection() -> None:
    every_byte = bytes(range(256)) * 2
    text = every_byte.decode("utf-8", "surrogateescape")
    assert as_bytes(text) == every_byte


def test_v1_entries_are_still_read_and_verified() -> None:
    stored = {
        "actor": {"id": "anon:a", "kind": "anonymous", "moderator": False},
        "causation_id": "c",
        "command_id": "c",
        "correlation_id": "c",
        "data": {"title": "T", "url": None},
        "event_id": "e1",
        "occurred_at": "2026-01-01T00:00:01.000Z",
        "prev_hash": GENESIS_HASH,
        "schema_version": 1,
        "site": "default",
        "thread": "t",
        "thread_version": 1,
        "type": "ThreadStarted",
    }
    stored["hash"] = chain_hash_v1(stored)
    fields = {"event": json.dumps(stored, sort_keys=True, separators=(",", ":"))}
    assert broken_link(fields, 0, GENESIS_HASH) is None
    assert broken_link(fields, 0, "e" * 64) == ("prev_hash does not link", "e" * 64, GENESIS_HASH)
    envelope = decode_entry(fields, "1-0")
    assert envelope.event() == ThreadStarted(title="T") and envelope.event_id == "e1"
    assert entry_head(fields).hash == stored["hash"]
    # a v2 event may follow a v1 one in the same thread
    following = as_read(encode_entry(envelope_for(CommentLiked(comment_id="x"), 2, stored["hash"])))
    assert broken_link(following, 1, stored["hash"]) is None


@pytest.mark.parametrize(
    "fields",
    [{}, {"e": "not json"}, {"e": '{"t":"ThreadStarted"}'}, {"event": "[]"}, {"other": "x"}],
)
def test_an_entry_of_neither_form_is_refused_as_a_value_error(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        decode_entry(fields)
    with pytest.raises(UnreadableEntry):
        entry_head(fields)


SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs/schemas/log-entry-v2.schema.json").read_text()
)


def test_the_published_json_schema_holds_for_what_is_written() -> None:
    validator = jsonschema_rs.validator_for(SCHEMA)
    assert set(SCHEMA["properties"]["t"]["enum"]) == set(EVENT_CLASSES)
    moderator = Actor(id="sso:site:ed", kind="user", moderator=True)
    written = [
        encode_entry(envelope_for(posted(), 2, "f" * 64)),
        encode_entry(envelope_for(CommentLiked(comment_id="c1"), 3, "f" * 64, actor=moderator)),
    ]
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "log_v2.jsonl"
    stored = [json.loads(line)["e"] for line in fixture.read_text().splitlines()]
    for json_part in [entry.json.decode() for entry in written] + stored:
        validator.validate(json.loads(json_part))
    with pytest.raises(jsonschema_rs.ValidationError):
        validator.validate(json.loads(stored[0]) | {"extra": 1})
