"""Every schema version ever written stays readable: a fixture with one event of each
(type, version) in envelope v1, read back through the upcasters, and one of every current type
in envelope v2. Add a line to both whenever a version is added."""

import base64
import json
from pathlib import Path

from events.decider import ThreadState, evolve
from events.envelope import GENESIS_HASH
from events.log_entry import broken_link, decode_entry
from events.personal import sealing_context, unseal
from events.thread_events import EVENT_CLASSES, CommentEdited, CommentPosted
from services.operations.transfer import exported_line, imported_entry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_every_type_and_version_ever_written_is_in_the_fixture() -> None:
    written = {
        (fields["type"], fields["schema_version"])
        for fields in map(json.loads, (FIXTURES / "schema_history.jsonl").read_text().splitlines())
    }
    # v1 envelopes were written until envelope v2 (CommentPosted v4 was the last version);
    # later versions are in the v2 fixture only.
    assert set(EVENT_CLASSES) <= {name for name, _ in written}
    assert {("CommentPosted", version) for version in (1, 2, 3, 4)} <= written


def test_old_events_read_back_through_the_upcasters_and_still_chain() -> None:
    key = base64.b64decode((FIXTURES / "schema_history.key").read_text())
    state = ThreadState()
    previous = (0, GENESIS_HASH)
    bodies = {}
    for number, line in enumerate((FIXTURES / "schema_history.jsonl").read_text().splitlines()):
        raw = json.loads(line)
        assert broken_link({"event": line}, *previous) is None
        previous = (raw["thread_version"], raw["hash"])
        envelope = decode_entry({"event": line}, f"1-{number}")
        event = envelope.event()
        assert type(event).__name__ == envelope.type
        if isinstance(event, CommentPosted | CommentEdited):
            assert not isinstance(event.personal, dict)
            context = sealing_context("default", "schema-history", event.comment_id)
            bodies[(envelope.type, event.comment_id)] = unseal(event.personal, key, context).body  # type: ignore[arg-type]
        state = evolve(state, envelope)
    assert state.comments["c2"].parent_id == "c1"  # v1's in_reply_to
    first = decode_entry({"event": (FIXTURES / "schema_history.jsonl").read_text().splitlines()[1]})
    assert first.event().status == "approved"  # type: ignore[union-attr]  # v2 -> v3
    assert state.comments["c3"].parent_id == "c1"
    assert state.comments["c2"].deleted
    assert bodies[("CommentPosted", "c1")] == "written by v1"
    assert bodies[("CommentEdited", "c1")] == "edited"
    assert bodies[("CommentPosted", "c4")] == "<p>an <b>imported</b> pending one</p>"


V2_FIXTURE = FIXTURES / "log_v2.jsonl"


def test_the_v2_fixture_has_every_type_at_its_current_version() -> None:
    """log_v2.jsonl was written by seal_envelope and exported_line (2026-12-03) with the key of
    schema_history.key; a new schema version adds a line to it as well."""
    written = {
        (json.loads(fields["e"])["t"], json.loads(fields["e"])["v"])
        for fields in map(json.loads, V2_FIXTURE.read_text().splitlines())
    }
    assert {(name, cls.schema_version) for name, cls in EVENT_CLASSES.items()} <= written


def test_v2_entries_read_back_chain_and_export_the_same_bytes() -> None:
    key = base64.b64decode((FIXTURES / "schema_history.key").read_text())
    previous = (0, GENESIS_HASH)
    state = ThreadState()
    bodies = {}
    for line in V2_FIXTURE.read_text().splitlines():
        position, fields = imported_entry(line)
        assert exported_line(position, fields) == line
        assert broken_link(fields, *previous) is None
        envelope = decode_entry(fields, position)
        previous = (envelope.thread_version, envelope.hash)
        event = envelope.event()
        if isinstance(event, CommentPosted | CommentEdited):
            context = sealing_context("default", "log-v2", event.comment_id)
            bodies[(envelope.type, event.comment_id)] = unseal(event.personal, key, context).body  # type: ignore[arg-type]
        state = evolve(state, envelope)
    assert bodies == {
        ("CommentPosted", "c1"): "written in **v2**",
        ("CommentPosted", "c2"): "a held reply",
        ("CommentEdited", "c1"): "edited in v2",
    }
    assert state.version == len(V2_FIXTURE.read_text().splitlines())
    assert state.comments["c2"].parent_id == "c1"
