"""Every schema version ever written stays readable: a fixture with one event of each
(type, version), read back through the upcasters. Add a line here whenever a version is added."""

import base64
import json
from pathlib import Path

from events.decider import ThreadState, evolve
from events.envelope import GENESIS_HASH, broken_link, decode_envelope
from events.personal import sealing_context, unseal
from events.thread_events import EVENT_CLASSES, CommentEdited, CommentPosted

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_every_type_and_version_ever_written_is_in_the_fixture() -> None:
    written = {
        (fields["type"], fields["schema_version"])
        for fields in map(json.loads, (FIXTURES / "schema_history.jsonl").read_text().splitlines())
    }
    current = {(name, cls.schema_version) for name, cls in EVENT_CLASSES.items()}
    assert current <= written, f"add the new version to the fixture: {current - written}"
    assert ("CommentPosted", 1) in written


def test_old_events_read_back_through_the_upcasters_and_still_chain() -> None:
    key = base64.b64decode((FIXTURES / "schema_history.key").read_text())
    state = ThreadState()
    previous = (0, GENESIS_HASH)
    bodies = {}
    for number, line in enumerate((FIXTURES / "schema_history.jsonl").read_text().splitlines()):
        raw = json.loads(line)
        assert broken_link(raw, *previous) is None
        previous = (raw["thread_version"], raw["hash"])
        envelope = decode_envelope(line, f"1-{number}")
        event = envelope.event()
        assert type(event).__name__ == envelope.type
        if isinstance(event, CommentPosted | CommentEdited):
            assert not isinstance(event.personal, dict)
            context = sealing_context("default", "schema-history", event.comment_id)
            bodies[(envelope.type, event.comment_id)] = unseal(event.personal, key, context).body  # type: ignore[arg-type]
        state = evolve(state, envelope)
    assert state.comments["c2"].parent_id == "c1"  # v1's in_reply_to
    first = decode_envelope((FIXTURES / "schema_history.jsonl").read_text().splitlines()[1])
    assert first.event().status == "approved"  # type: ignore[union-attr]  # v2 -> v3
    assert state.comments["c3"].parent_id == "c1"
    assert state.comments["c2"].deleted
    assert bodies[("CommentPosted", "c1")] == "written by v1"
    assert bodies[("CommentEdited", "c1")] == "edited"
    assert bodies[("CommentPosted", "c4")] == "<p>an <b>imported</b> pending one</p>"
