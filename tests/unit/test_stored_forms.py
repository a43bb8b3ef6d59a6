"""Records and decider state are stored without what their field name and defaults give back."""

from datetime import UTC, datetime

import orjson

from events.decider import CommentState, ThreadState
from projections.thread_view.model import CommentRecord, record_from_stored, stored_record
from projections.thread_view.rendering import avatar_seed
from storage.thread_state import state_fields, state_from_fields

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_record_is_stored_without_its_id_html_avatar_source_and_defaults() -> None:
    record = CommentRecord(
        id="c1",
        author_id="anon:a",
        avatar=avatar_seed("anon:a"),
        html="<p>hi</p>",
        source_at="1-0",
        created_at=CREATED,
    )
    stored = orjson.loads(stored_record(record))
    assert stored == {
        "author_id": "anon:a",
        "source_at": "1-0",
        "created_at": "2026-01-01T00:00:00Z",
    }
    assert record_from_stored("c1", stored_record(record)) == record.model_copy(update={"html": ""})


def test_a_record_stored_with_its_source_before_is_read_without_it() -> None:
    earlier = '{"author_id":"anon:a","avatar":"0f","body":"hi","created_at":"2026-01-01T00:00:00Z"}'
    record = record_from_stored("c1", earlier)
    assert record.author_id == "anon:a" and record.avatar == avatar_seed("anon:a")
    assert "hi" not in stored_record(record)


def test_a_reply_keeps_its_parent() -> None:
    reply = CommentRecord(
        id="c2",
        parent_id="c1",
        root_id="c1",
        author_id="anon:b",
        avatar=avatar_seed("anon:b"),
        created_at=CREATED,
    )
    assert record_from_stored("c2", stored_record(reply)) == reply


def test_state_is_stored_without_the_comment_id_and_defaults() -> None:
    state = ThreadState(
        version=3,
        started=True,
        comments={
            "c1": CommentState(id="c1", author_id="anon:a", created_at=CREATED),
            "c2": CommentState(id="c2", parent_id="c1", author_id="anon:b", created_at=CREATED),
        },
    )
    pairs = state_fields(state)
    fields = dict(zip(pairs[::2], pairs[1::2], strict=True))
    assert orjson.loads(fields["c:c1"]) == {
        "author_id": "anon:a",
        "created_at": "2026-01-01T00:00:00Z",
    }
    read = state_from_fields({**fields, "version": "3"})
    assert read.comments == state.comments
