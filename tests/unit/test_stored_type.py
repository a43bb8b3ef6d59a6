"""The type read off a stored entry without parsing it agrees with parsing it, or declines to
answer: v2's at the start of `e`, v1's at the end of `event`."""

from datetime import UTC, datetime

import pytest

from events.actors import Actor
from events.envelope import GENESIS_HASH
from events.log_entry import decode_entry, encode_entry, entry_type, seal_envelope
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


def stored(event: ThreadEvent) -> dict[str, bytes | str]:
    return encode_entry(
        seal_envelope(
            event=event,
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
    ).fields()


def test_every_event_type_is_covered() -> None:
    assert {event.type for event in EVENTS} == set(EVENT_CLASSES)


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.type)
def test_the_type_read_off_is_the_parsed_type(event: ThreadEvent) -> None:
    fields = stored(event)
    assert decode_entry(fields).type == event.type
    assert entry_type(fields) == event.type
    as_sent_by_faststream = {name.encode(): value for name, value in fields.items()}
    assert entry_type(as_sent_by_faststream) == event.type  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw",
    [
        "",
        '{"v":1,"t":"CommentLiked"}',  # type is not first
        ' {"t":"CommentLiked"}',  # something before the object
        '{"t":"Comment\\u004ciked"}',  # an escape in the name
    ],
)
def test_a_v2_start_of_another_form_gives_no_answer(raw: str) -> None:
    assert entry_type({"e": raw, "h": ""}) is None


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
def test_a_v1_end_of_another_form_gives_no_answer(raw: str) -> None:
    assert entry_type({"event": raw}) is None


def test_a_v1_end_gives_the_type() -> None:
    assert entry_type({"event": '{"a":1,"type":"CommentLiked"}'}) == "CommentLiked"
