"""The thread view fold, markdown sanitising and paging, without Redis."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from events.actors import Actor
from events.envelope import GENESIS_HASH
from events.log_entry import seal_envelope
from events.personal import PersonalData
from events.thread_events import CommentApproved, CommentDeleted, CommentPosted, ThreadStarted
from projections.thread_view.model import (
    ThreadSlice,
    apply,
    needs_source,
    record_from_stored,
    stored_record,
)
from projections.thread_view.query import InvalidCursor, Viewer, build_thread_view
from projections.thread_view.rendering import render

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_markdown_is_rendered_without_raw_html_and_links_are_marked() -> None:
    html = render("**hi** <script>alert(1)</script> [x](https://e.example) [j](javascript:x)")
    assert "<strong>hi</strong>" in html
    assert "<script>" not in html
    assert 'rel="nofollow ugc noopener"' in html
    assert 'href="javascript' not in html


def envelope(event, version: int, actor: Actor | None = None, minutes: int = 0):  # type: ignore[no-untyped-def]
    """`event` as version `version` of thread default/t."""
    return seal_envelope(
        event=event,
        site="default",
        thread="t",
        thread_version=version,
        occurred_at=T0 + timedelta(minutes=minutes),
        actor=actor or Actor(id="anon:a"),
        command_id=f"c{version}",
        correlation_id=f"c{version}",
        causation_id=f"c{version}",
        prev_hash=GENESIS_HASH,
    )


def posted(version: int, comment_id: str, parent: str | None = None, minutes: int = 0):  # type: ignore[no-untyped-def]
    event = CommentPosted(comment_id=comment_id, parent_id=parent, personal=PersonalData(body="b"))
    return envelope(event, version, minutes=minutes)


def fold(*envelopes):  # type: ignore[no-untyped-def]
    view = ThreadSlice()
    for envelope in envelopes:
        data = envelope.event()
        personal = data.personal if isinstance(data, CommentPosted) else None
        view = apply(view, envelope, personal)
    return view


def page_of(  # type: ignore[no-untyped-def]
    view, likes=None, sort="oldest", limit=10, cursor=None, viewer=None
):
    return build_thread_view(
        site="default",
        thread="t",
        meta=view.meta,
        records=view.comments,
        like_counts=likes or {},
        viewer=viewer,
        sort=sort,
        limit=limit,
        cursor=cursor,
        position=None,
    )


def test_apply_ignores_events_already_folded() -> None:
    once = fold(posted(1, "a"))
    assert apply(once, posted(1, "a"), PersonalData(body="b")) == once
    assert once.meta.count == 1


def test_deleted_comment_stays_as_placeholder_only_while_it_has_replies() -> None:
    start = seal_envelope(
        event=ThreadStarted(title="T"),
        site="default",
        thread="t",
        thread_version=1,
        occurred_at=T0,
        actor=Actor(id="anon:a"),
        command_id="c",
        correlation_id="c",
        causation_id="c",
        prev_hash=GENESIS_HASH,
    )
    view = fold(start, posted(2, "a"), posted(3, "b", parent="a", minutes=1), posted(4, "c"))
    for version, target in ((5, "a"), (6, "c")):
        deleted = start.model_copy(
            update={
                "type": "CommentDeleted",
                "thread_version": version,
                "data": CommentDeleted(comment_id=target).model_dump(exclude={"type"}),
            }
        )
        view = apply(view, deleted, None)
    assert view.meta.count == 1
    page = page_of(view, sort="oldest", limit=10, cursor=None)
    assert [c.id for c in page.comments] == ["a"]
    assert page.comments[0].status == "deleted" and page.comments[0].html == ""
    assert [r.id for r in page.comments[0].replies] == ["b"]
    # Its author sees a placeholder too, not their own comment to edit (the page script agrees).
    own = page_of(view, viewer=Viewer(actor_id="anon:a", anonymous=True))
    assert not own.comments[0].mine
    assert own.comments[0].replies[0].mine


def test_paging_by_cursor_visits_every_top_level_comment_once() -> None:
    view = fold(*(posted(v, f"c{v}", minutes=v) for v in range(1, 8)))
    likes = {"c3": 5, "c5": 2}
    for sort, expected in (
        ("oldest", [f"c{v}" for v in range(1, 8)]),
        ("newest", [f"c{v}" for v in range(7, 0, -1)]),
        ("top", ["c3", "c5", "c1", "c2", "c4", "c6", "c7"]),
    ):
        seen, cursor = [], None
        while True:
            page = page_of(view, likes=likes, sort=sort, limit=3, cursor=cursor)
            seen += [c.id for c in page.comments]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected, sort


def test_comments_of_one_millisecond_come_newest_first_as_the_page_script_orders_them() -> None:
    # Ties on time go by id, descending for "newest" as ZREVRANGE gives them: the exact
    # reverse of "oldest", page by page across the tie.
    view = fold(*(posted(v, cid) for v, cid in enumerate(["b", "d", "a", "c"], start=1)))
    for sort, expected in (("oldest", ["a", "b", "c", "d"]), ("newest", ["d", "c", "b", "a"])):
        seen, cursor = [], None
        while True:
            page = page_of(view, sort=sort, limit=1, cursor=cursor)
            seen += [c.id for c in page.comments]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected, sort


def test_a_foreign_cursor_is_refused() -> None:
    view = fold(posted(1, "a"))
    with pytest.raises(InvalidCursor):
        page_of(view, sort="oldest", limit=3, cursor="garbage!")


def test_a_record_keeps_where_its_source_is_and_a_verdict_renders_it_from_there() -> None:
    held = CommentPosted(
        comment_id="a", personal=PersonalData(body="**held** 5d2b"), status="pending"
    )
    post = envelope(held, 1).model_copy(update={"position": "1-0"})
    folded = fold(post)
    stored = stored_record(folded.comments["a"])
    assert "5d2b" not in stored and orjson.loads(stored)["source_at"] == "1-0"
    # Read back from the store (without its HTML), approved: rendered from the source the
    # projector unsealed from the log.
    reloaded = ThreadSlice(
        meta=folded.meta,
        comments={"a": record_from_stored("a", stored)},
        sources={"a": "**held** 5d2b"},
    )
    moderator = Actor(id="service:admin", kind="service", moderator=True)
    approval = envelope(CommentApproved(comment_id="a"), 2, moderator)
    approved = apply(reloaded, approval, None).comments["a"]
    assert approved.status == "visible"
    assert approved.html == "<p><strong>held</strong> 5d2b</p>\n"
    assert needs_source(record_from_stored("a", stored))
