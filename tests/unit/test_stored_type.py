"""The type read off a stored envelope's end agrees with parsing it, or declines to answer."""

from datetime import UTC, datetime

import orjson
import pytest

from events.actors import Actor
from events.envelope import GENESIS_HASH, encode_envelope, seal_envelope, stored_type
from events.personal import PersonalData
from events.thread_events import (
    EVENT_CLASSES,
    AuthorBanned,
    AuthorErased,
    AuthorUnbanned,
    CommentApproved,
    CommentDeleted,
    CommentEdited,
    CommentLiked,
    CommentMarkedSpam,
    CommentPinned,
    CommentPosted,
    CommentRejected,
    CommentReported,
    CommentUnliked,
    CommentUnpinned,
    ThreadEvent,
    ThreadLocked,
    ThreadStarted,
    ThreadUnlocked,
)

# A title that spells what the reader looks for: JSON escapes its quotes.
TRICKY_TITLE = 'x","type":"CommentLiked"}'
EVENTS: list[ThreadEvent] = [
    ThreadStarted(title=TRICKY_TITLE, url=None),
    CommentPosted(comment_id="c1", personal=PersonalData(body='"type":"CommentLiked"}')),
    CommentEdited(comment_id="c1", personal=PersonalData(body="edited")),
    CommentDeleted(comment_id="c1"),
    CommentLiked(comment_id="c1"),
    CommentUnliked(comment_id="c1"),
    AuthorErased(author_id="anon:a"),
    CommentApproved(comment_id="c1"),
    CommentRejected(comment_id="c1"),
    CommentMarkedSpam(comment_id="c1"),
    CommentPinned(comment_id="c1"),
    CommentUnpinned(comment_id="c1"),
    CommentReported(comment_id="c1", reason='"type":"CommentLiked"}'),
    ThreadLocked(),
    ThreadUnlocked(),
    AuthorBanned(ban_id="b1", subjects=("identity:" + "ab" * 16,), reason='"type":"CommentLiked"}'),
    AuthorUnbanned(ban_id="b1"),
]


def stored(event: ThreadEvent) -> str:
    return encode_envelope(
        seal_envelope(
            event=event,
            event_id="e1",
            site="default",
            thread="t",
            thread_version=1,
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
            actor=Actor(id="anon:a"),
            command_id="c1",
            correlation_id="c1",
            causation_id="c1",
            prev_hash=GENESIS_HASH,
        )
    )


def test_every_event_type_is_covered() -> None:
    assert {event.type for event in EVENTS} == set(EVENT_CLASSES)


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.type)
def test_the_type_at_the_end_is_the_parsed_type(event: ThreadEvent) -> None:
    raw = stored(event)
    assert orjson.loads(raw)["type"] == event.type
    assert stored_type(raw) == event.type
    assert stored_type(raw.encode()) == event.type


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        '{"type":"CommentLiked","zzz":1}',  # not canonical: type is not last
        '{"a":1,"sub\\"type":"CommentLiked"}',  # a key that ends in type
        '{"data":{"type":"CommentLiked"}}',  # nested, not the envelope's own
        '{"a":1,"type":"CommentLiked"} ',  # something after the object
        '{"a":1,"type":"Comment\\u004ciked"}',  # an escape in the name
    ],
)
def test_an_end_of_another_form_gives_no_answer(raw: str) -> None:
    assert stored_type(raw) is None
