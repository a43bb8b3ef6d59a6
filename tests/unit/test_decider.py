"""The decider's rules and rejection codes, without Redis."""

from datetime import UTC, datetime, timedelta

from events.actors import Actor
from events.commands import (
    Command,
    DeleteComment,
    EditComment,
    EraseAuthor,
    LikeComment,
    PostComment,
    Reply,
    UnlikeComment,
)
from events.decider import DecisionContext, Rejection, ThreadState, Unchanged, decide, evolve
from events.log_entry import seal_envelope
from events.thread_events import (
    AuthorErased,
    CommentDeleted,
    CommentEdited,
    CommentLiked,
    CommentPosted,
    CommentUnliked,
    ThreadStarted,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ALICE = Actor(id="anon:alice")
BOB = Actor(id="anon:bob")
MODERATOR = Actor(id="user:mod", kind="user", moderator=True)
CAROL_USER = Actor(id="user:carol", kind="user")


def run(state: ThreadState, command: Command, now: datetime = T0, new_id: str = "c1"):
    """Decide, then fold any events into the state, as the processor does."""
    decision = decide(state, command, DecisionContext(now=now, new_comment_id=new_id))
    if isinstance(decision, list):
        for event in decision:
            envelope = seal_envelope(
                event=event,
                site="default",
                thread="t",
                thread_version=state.version + 1,
                occurred_at=now,
                actor=command.actor,
                command_id=command.command_id,
                correlation_id=command.correlation,
                causation_id=command.command_id,
                prev_hash=state.head_hash,
            )
            state = evolve(state, envelope)
    return decision, state


def post(actor: Actor = ALICE, **extra) -> PostComment:
    return PostComment(thread="t", actor=actor, body="hello", **extra)


def thread_with_comment(author: Actor = ALICE) -> ThreadState:
    return run(ThreadState(), post(author, title="Title", url="https://blog.example/p"))[1]


def test_first_comment_creates_the_thread_with_title_and_url():
    decision, state = run(ThreadState(), post(title="Title", url="https://blog.example/p"))
    assert isinstance(decision, list)
    assert [type(e) for e in decision] == [ThreadStarted, CommentPosted]
    assert decision[0] == ThreadStarted(title="Title", url="https://blog.example/p")
    assert state.started and state.version == 2 and "c1" in state.comments


def test_later_comments_do_not_restart_the_thread():
    state = thread_with_comment()
    decision, state = run(state, post(BOB), new_id="c2")
    assert [type(e) for e in decision] == [CommentPosted]
    assert state.version == 3
    assert state.comments["c2"].author_id == BOB.id


def test_reply_to_an_existing_comment():
    state = thread_with_comment()
    decision, state = run(
        state, Reply(thread="t", actor=BOB, body="re", parent_id="c1"), new_id="c2"
    )
    assert isinstance(decision, list)
    assert decision[0].parent_id == "c1"
    assert state.comments["c2"].parent_id == "c1"


def test_reply_to_a_missing_parent_is_rejected():
    state = thread_with_comment()
    decision, _ = run(state, Reply(thread="t", actor=BOB, body="re", parent_id="nope"))
    assert decision == Rejection(
        code="parent_not_found",
        message=decision.message,
        field="parent_id",
    )


def test_reply_on_an_empty_thread_has_no_parent():
    decision, _ = run(ThreadState(), Reply(thread="t", actor=BOB, body="re", parent_id="c1"))
    assert isinstance(decision, Rejection) and decision.code == "parent_not_found"


def test_reply_to_a_deleted_parent_is_rejected():
    state = run(thread_with_comment(), DeleteComment(thread="t", actor=ALICE, comment_id="c1"))[1]
    decision, _ = run(state, Reply(thread="t", actor=BOB, body="re", parent_id="c1"))
    assert isinstance(decision, Rejection) and decision.code == "parent_deleted"


def test_author_edits_within_the_window():
    state = thread_with_comment()
    decision, _ = run(
        state,
        EditComment(thread="t", actor=ALICE, comment_id="c1", body="fixed"),
        now=T0 + timedelta(minutes=14),
    )
    assert isinstance(decision, list) and isinstance(decision[0], CommentEdited)


def test_anonymous_author_cannot_edit_after_the_window():
    state = thread_with_comment()
    decision, _ = run(
        state,
        EditComment(thread="t", actor=ALICE, comment_id="c1", body="late"),
        now=T0 + timedelta(minutes=16),
    )
    assert isinstance(decision, Rejection) and decision.code == "edit_window_closed"


def test_signed_in_author_may_edit_after_the_window():
    state = thread_with_comment(CAROL_USER)
    decision, _ = run(
        state,
        EditComment(thread="t", actor=CAROL_USER, comment_id="c1", body="later"),
        now=T0 + timedelta(days=2),
    )
    assert isinstance(decision, list)


def test_someone_else_cannot_edit_or_delete():
    state = thread_with_comment()
    for command in (
        EditComment(thread="t", actor=BOB, comment_id="c1", body="mine now"),
        DeleteComment(thread="t", actor=BOB, comment_id="c1"),
    ):
        decision, _ = run(state, command)
        assert isinstance(decision, Rejection) and decision.code == "not_author"


def test_moderator_edits_and_deletes_anything_any_time():
    state = thread_with_comment()
    later = T0 + timedelta(days=30)
    edit, state = run(
        state, EditComment(thread="t", actor=MODERATOR, comment_id="c1", body="x"), now=later
    )
    assert isinstance(edit, list)
    delete, state = run(state, DeleteComment(thread="t", actor=MODERATOR, comment_id="c1"), later)
    assert delete == [CommentDeleted(comment_id="c1", by_moderator=True)]
    assert state.comments["c1"].deleted


def test_missing_comment_is_rejected_for_every_comment_command():
    state = thread_with_comment()
    for command in (
        EditComment(thread="t", actor=ALICE, comment_id="zz", body="x"),
        DeleteComment(thread="t", actor=ALICE, comment_id="zz"),
        LikeComment(thread="t", actor=ALICE, comment_id="zz"),
        UnlikeComment(thread="t", actor=ALICE, comment_id="zz"),
    ):
        decision, _ = run(state, command)
        assert isinstance(decision, Rejection) and decision.code == "comment_not_found"
        assert decision.field == "comment_id"


def test_deleting_twice_changes_nothing():
    state = run(thread_with_comment(), DeleteComment(thread="t", actor=ALICE, comment_id="c1"))[1]
    decision, after = run(state, DeleteComment(thread="t", actor=ALICE, comment_id="c1"))
    assert decision == Unchanged(code="already_deleted")
    assert after == state


def test_deleted_comment_cannot_be_edited_or_liked():
    state = run(thread_with_comment(), DeleteComment(thread="t", actor=ALICE, comment_id="c1"))[1]
    for command in (
        EditComment(thread="t", actor=ALICE, comment_id="c1", body="x"),
        LikeComment(thread="t", actor=BOB, comment_id="c1"),
    ):
        decision, _ = run(state, command)
        assert isinstance(decision, Rejection) and decision.code == "comment_deleted"


def test_like_twice_is_already_liked_and_unlike_twice_is_not_liked():
    state = thread_with_comment()
    first, state = run(state, LikeComment(thread="t", actor=BOB, comment_id="c1"))
    assert first == [CommentLiked(comment_id="c1")]
    second, state = run(state, LikeComment(thread="t", actor=BOB, comment_id="c1"))
    assert second == Unchanged(code="already_liked")
    assert state.comments["c1"].likers == {BOB.id}
    unlike, state = run(state, UnlikeComment(thread="t", actor=BOB, comment_id="c1"))
    assert unlike == [CommentUnliked(comment_id="c1")]
    again, state = run(state, UnlikeComment(thread="t", actor=BOB, comment_id="c1"))
    assert again == Unchanged(code="not_liked")
    assert state.comments["c1"].likers == frozenset()


def test_evolve_tracks_version_and_hash_chain():
    state = ThreadState()
    for version, title in enumerate(["first", "second", "third"], start=1):
        envelope = seal_envelope(
            event=ThreadStarted(title=title),
            site="default",
            thread="t",
            thread_version=version,
            occurred_at=T0,
            actor=ALICE,
            command_id=f"cmd{version}",
            correlation_id=f"cmd{version}",
            causation_id=f"cmd{version}",
            prev_hash=state.head_hash,
        )
        before = state.head_hash
        state = evolve(state, envelope)
        assert state.version == version
        assert envelope.prev_hash == before != envelope.hash == state.head_hash


def test_only_an_operator_erases_an_author_and_only_where_they_wrote() -> None:
    state = thread_with_comment(ALICE)
    refused, _ = run(state, EraseAuthor(thread="t", actor=BOB, author_id=ALICE.id))
    assert isinstance(refused, Rejection) and refused.code == "not_allowed"
    operator = Actor(id="service:ops", kind="service")
    nothing, _ = run(state, EraseAuthor(thread="t", actor=operator, author_id=BOB.id))
    assert nothing == Unchanged(code="nothing_to_erase")
    erased, _ = run(state, EraseAuthor(thread="t", actor=MODERATOR, author_id=ALICE.id))
    assert erased == [AuthorErased(author_id=ALICE.id)]
