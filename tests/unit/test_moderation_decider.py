"""The decider's moderation rules, without Redis: who moderates, what each action does to a
comment, closed threads, and how the site's policy screens a new comment."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from events.actors import Actor
from events.commands import (
    BANS_THREAD,
    ApproveComment,
    BanAuthor,
    Command,
    DeleteComment,
    EditComment,
    LikeComment,
    LockThread,
    MarkSpam,
    PinComment,
    PostComment,
    RejectComment,
    Reply,
    ReportComment,
    UnbanAuthor,
    UnlockThread,
    UnpinComment,
)
from events.decider import DecisionContext, Rejection, ThreadState, Unchanged, decide, evolve
from events.log_entry import seal_envelope
from events.moderation import ModerationPolicy
from events.thread_events import (
    AuthorBanned,
    AuthorUnbanned,
    CommentApproved,
    CommentMarkedSpam,
    CommentPinned,
    CommentPosted,
    CommentRejected,
    CommentReported,
    ThreadLocked,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ALICE = Actor(id="anon:alice")
BOB = Actor(id="anon:bob")
ADMIN = Actor(id="service:admin", kind="service", moderator=True)
EDITOR = Actor(id="sso:default:editor-1", kind="user")  # listed in the policy below
POLICY = ModerationPolicy(moderators=("sso:editor-1",))


def context(**changes: object) -> DecisionContext:
    return replace(DecisionContext(now=T0, new_comment_id="c1", policy=POLICY), **changes)  # type: ignore[arg-type]


def run(state: ThreadState, command: Command, ctx: DecisionContext | None = None):
    ctx = ctx or context()
    decision = decide(state, command, ctx)
    if isinstance(decision, list):
        for event in decision:
            envelope = seal_envelope(
                event=event,
                site="default",
                thread="t",
                thread_version=state.version + 1,
                occurred_at=ctx.now,
                actor=command.actor,
                command_id=command.command_id,
                correlation_id=command.correlation,
                causation_id=command.command_id,
                prev_hash=state.head_hash,
            )
            state = evolve(state, envelope)
    return decision, state


def post(actor: Actor = ALICE, body: str = "hello", **extra: object) -> PostComment:
    return PostComment(thread="t", actor=actor, body=body, **extra)  # type: ignore[arg-type]


def posted(policy: ModerationPolicy = POLICY, body: str = "hello") -> ThreadState:
    return run(ThreadState(), post(body=body), context(policy=policy))[1]


def on_c1(kind: type, actor: Actor = EDITOR) -> Command:
    return kind(thread="t", actor=actor, comment_id="c1")  # type: ignore[no-any-return]


MODERATION = [ApproveComment, RejectComment, MarkSpam, PinComment, UnpinComment]


@pytest.mark.parametrize("kind", [*MODERATION, LockThread, UnlockThread])
def test_only_moderators_moderate(kind: type) -> None:
    state = posted()
    fields = {} if kind in (LockThread, UnlockThread) else {"comment_id": "c1"}
    decision, after = run(state, kind(thread="t", actor=BOB, **fields))
    assert isinstance(decision, Rejection) and decision.code == "not_moderator"
    assert after == state
    for moderator in (ADMIN, EDITOR, Actor(id="sso:default:x", kind="user", moderator=True)):
        assert not isinstance(run(state, kind(thread="t", actor=moderator, **fields))[0], Rejection)


def test_a_held_comment_records_why_and_is_pending() -> None:
    policy = ModerationPolicy(mode="pre", suspect_words=("casino",))
    decision, state = run(ThreadState(), post(body="best casino"), context(policy=policy))
    assert isinstance(decision, list)
    comment = decision[-1]
    assert isinstance(comment, CommentPosted)
    assert comment.status == "pending" and comment.held_for == ("pre", "suspect_word")
    assert state.comments["c1"].status == "pending"


def test_approving_publishes_rejecting_and_spam_hide() -> None:
    state = posted(ModerationPolicy(mode="pre"))
    decision, state = run(state, on_c1(ApproveComment))
    assert decision == [CommentApproved(comment_id="c1")]
    assert state.comments["c1"].published
    assert run(state, on_c1(ApproveComment))[0] == Unchanged(code="already_approved")
    decision, rejected = run(state, on_c1(RejectComment))
    assert decision == [CommentRejected(comment_id="c1")] and not rejected.comments["c1"].published
    assert run(rejected, on_c1(RejectComment))[0] == Unchanged(code="already_rejected")
    decision, spam = run(state, on_c1(MarkSpam))
    assert decision == [CommentMarkedSpam(comment_id="c1")]
    assert spam.comments["c1"].status == "spam"
    assert run(spam, on_c1(ApproveComment))[1].comments["c1"].published  # a verdict undone


def test_moderating_an_unknown_or_deleted_comment_is_refused() -> None:
    decision, _ = run(ThreadState(), on_c1(ApproveComment))
    assert isinstance(decision, Rejection) and decision.code == "comment_not_found"
    deleted = run(posted(), DeleteComment(thread="t", actor=ALICE, comment_id="c1"))[1]
    decision, _ = run(deleted, on_c1(RejectComment))
    assert isinstance(decision, Rejection) and decision.code == "comment_deleted"


def test_pins_are_for_published_top_level_comments() -> None:
    state = posted()
    decision, state = run(state, on_c1(PinComment))
    assert decision == [CommentPinned(comment_id="c1")] and state.comments["c1"].pinned
    assert run(state, on_c1(PinComment))[0] == Unchanged(code="already_pinned")
    decision, state = run(state, on_c1(UnpinComment))
    assert not state.comments["c1"].pinned
    assert run(state, on_c1(UnpinComment))[0] == Unchanged(code="not_pinned")
    reply = Reply(thread="t", actor=BOB, body="re", parent_id="c1")
    state = run(state, reply, context(new_comment_id="c2"))[1]
    decision, _ = run(state, PinComment(thread="t", actor=EDITOR, comment_id="c2"))
    assert isinstance(decision, Rejection) and decision.code == "not_top_level"
    held = posted(ModerationPolicy(mode="pre"))
    decision, _ = run(held, on_c1(PinComment))
    assert isinstance(decision, Rejection) and decision.code == "not_published"


def test_any_reader_reports_a_published_comment_once() -> None:
    state = posted()
    report = ReportComment(thread="t", actor=BOB, comment_id="c1", reason="rude")
    decision, state = run(state, report)
    assert decision == [CommentReported(comment_id="c1", reason="rude")]
    assert state.comments["c1"].reporters == {BOB.id}
    assert run(state, report)[0] == Unchanged(code="already_reported")
    other = ReportComment(thread="t", actor=ALICE, comment_id="c1", reason="spam")
    assert run(state, other)[1].comments["c1"].reporters == {BOB.id, ALICE.id}
    held = posted(ModerationPolicy(mode="pre"))
    decision, _ = run(held, report)
    assert isinstance(decision, Rejection) and decision.code == "comment_not_found"


def test_a_verdict_answers_the_reports_so_far() -> None:
    report = ReportComment(thread="t", actor=BOB, comment_id="c1", reason="rude")
    reported = run(posted(), report)[1]
    assert reported.comments["c1"].reported
    decision, kept = run(reported, on_c1(ApproveComment))  # kept up, out of the queue
    assert decision == [CommentApproved(comment_id="c1")]
    assert not kept.comments["c1"].reported and kept.comments["c1"].published
    assert run(kept, on_c1(ApproveComment))[0] == Unchanged(code="already_approved")
    assert run(kept, report)[0] == Unchanged(code="already_reported")  # still once per reader


def test_held_comments_cannot_be_answered_or_liked_by_readers() -> None:
    held = posted(ModerationPolicy(mode="pre"))
    reply = Reply(thread="t", actor=BOB, body="re", parent_id="c1")
    decision, _ = run(held, reply, context(new_comment_id="c2"))
    assert isinstance(decision, Rejection) and decision.code == "parent_not_found"
    decision, _ = run(held, on_c1(LikeComment, BOB))
    assert isinstance(decision, Rejection) and decision.code == "comment_not_found"
    moderator_reply = Reply(thread="t", actor=EDITOR, body="re", parent_id="c1")
    assert isinstance(run(held, moderator_reply, context(new_comment_id="c2"))[0], list)


WRITES = {
    "post": lambda: post(BOB),
    "reply": lambda: Reply(thread="t", actor=BOB, body="re", parent_id="c1"),
    "edit": lambda: EditComment(thread="t", actor=ALICE, comment_id="c1", body="x"),
    "like": lambda: LikeComment(thread="t", actor=BOB, comment_id="c1"),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_locked_thread_refuses_writes_until_unlocked(write: str) -> None:
    decision, locked = run(posted(), LockThread(thread="t", actor=EDITOR))
    assert decision == [ThreadLocked()] and locked.locked
    assert run(locked, LockThread(thread="t", actor=EDITOR))[0] == Unchanged(code="already_locked")
    decision, _ = run(locked, WRITES[write](), context(new_comment_id="c2"))
    assert isinstance(decision, Rejection) and decision.code == "thread_locked"
    unlocked = run(locked, UnlockThread(thread="t", actor=EDITOR))[1]
    assert isinstance(run(unlocked, WRITES[write](), context(new_comment_id="c2"))[0], list)


def test_moderators_still_write_in_a_locked_thread() -> None:
    locked = run(posted(), LockThread(thread="t", actor=EDITOR))[1]
    assert isinstance(run(locked, post(EDITOR), context(new_comment_id="c2"))[0], list)


def test_a_thread_closes_itself_auto_close_days_after_its_first_comment() -> None:
    policy = ModerationPolicy(auto_close_days=3)
    state = posted(policy)
    assert state.first_comment_at == T0
    before = context(policy=policy, now=T0 + timedelta(days=3) - timedelta(seconds=1))
    assert isinstance(run(state, post(BOB), replace(before, new_comment_id="c2"))[0], list)
    after = context(policy=policy, now=T0 + timedelta(days=3), new_comment_id="c2")
    decision, _ = run(state, post(BOB), after)
    assert isinstance(decision, Rejection) and decision.code == "thread_locked"


def test_the_policy_refuses_banned_words_and_duplicates_naming_the_field() -> None:
    policy = ModerationPolicy(banned_words=("viagra",))
    decision, _ = run(ThreadState(), post(body="cheap Viagra!"), context(policy=policy))
    assert decision == Rejection(code="banned_words", message=decision.message, field="body")
    first = context(fingerprint="ab" * 16)
    state = run(ThreadState(), post(), first)[1]
    assert state.fingerprints == {"ab" * 16}
    decision, _ = run(state, post(), replace(first, new_comment_id="c2"))
    assert isinstance(decision, Rejection) and decision.code == "duplicate"
    lenient = replace(first, new_comment_id="c2", policy=ModerationPolicy(duplicate="off"))
    assert isinstance(run(state, post(), lenient)[0], list)


def test_first_time_mode_holds_until_the_author_was_approved_once() -> None:
    policy = ModerationPolicy(mode="first_time")
    decision, _ = run(ThreadState(), post(), context(policy=policy))
    assert isinstance(decision, list) and decision[-1].held_for == ("first_time",)  # type: ignore[union-attr]
    decision, _ = run(ThreadState(), post(), context(policy=policy, approved_before=True))
    assert isinstance(decision, list) and decision[-1].status == "approved"  # type: ignore[union-attr]


def test_moderators_and_imports_are_not_screened() -> None:
    policy = ModerationPolicy(mode="pre", banned_words=("word",), moderators=POLICY.moderators)
    decision, _ = run(ThreadState(), post(EDITOR, body="a word"), context(policy=policy))
    assert isinstance(decision, list) and decision[-1].status == "approved"  # type: ignore[union-attr]
    imported = post(ADMIN, body="a word", comment_id="old1", status="spam")
    decision, _ = run(ThreadState(), imported, context(policy=policy))
    assert isinstance(decision, list) and decision[-1].status == "spam"  # type: ignore[union-attr]


def test_a_banned_author_writes_nothing_but_a_moderator_does() -> None:
    state = posted()
    edit = EditComment(thread="t", actor=ALICE, comment_id="c1", body="x")
    for command in (post(BOB), on_c1(LikeComment, BOB), edit):
        decision, _ = run(state, command, context(banned=True, new_comment_id="c2"))
        assert isinstance(decision, Rejection) and decision.code == "banned", command
    assert isinstance(run(state, post(EDITOR), context(banned=True, new_comment_id="c2"))[0], list)


def test_bans_live_in_their_own_thread_and_nothing_else_does() -> None:
    subjects = ("identity:" + "ab" * 16,)
    ban = BanAuthor(actor=EDITOR, identity="anon:bob", reason="spam", ban_id="b1")
    decision, state = run(ThreadState(), ban, context(ban_subjects=subjects))
    assert decision == [AuthorBanned(ban_id="b1", subjects=subjects, reason="spam")]
    assert state.bans == {"b1"}
    assert run(ThreadState(), BanAuthor(actor=BOB, identity="anon:x"))[0] == Rejection(
        code="not_moderator", message="only a moderator of this site may do this"
    )
    past = BanAuthor(actor=EDITOR, identity="anon:bob", until=T0 - timedelta(seconds=1))
    decision, _ = run(ThreadState(), past)
    assert isinstance(decision, Rejection) and decision.code == "invalid_until"
    decision, lifted = run(state, UnbanAuthor(actor=EDITOR, ban_id="b1"))
    assert decision == [AuthorUnbanned(ban_id="b1")] and lifted.bans == frozenset()
    decision, _ = run(lifted, UnbanAuthor(actor=EDITOR, ban_id="b1"))
    assert isinstance(decision, Rejection) and decision.code == "ban_not_found"
    elsewhere = BanAuthor(actor=EDITOR, thread="t", identity="anon:bob")
    for wrong in (elsewhere, PostComment(thread=BANS_THREAD, actor=BOB, body="hi")):
        decision, _ = run(ThreadState(), wrong)
        assert isinstance(decision, Rejection) and decision.code == "reserved_thread"


def test_a_ban_names_someone() -> None:
    with pytest.raises(ValueError, match="name an identity"):
        BanAuthor(actor=EDITOR)


def test_enough_reports_hold_a_comment_until_a_verdict() -> None:
    policy = ModerationPolicy(hold_after_reports=2, moderators=POLICY.moderators)
    state = posted(policy)
    ctx = context(policy=policy)
    first = ReportComment(thread="t", actor=BOB, comment_id="c1", reason="rude")
    decision, state = run(state, first, ctx)
    assert decision == [CommentReported(comment_id="c1", reason="rude", hold=False)]
    second = ReportComment(thread="t", actor=ALICE, comment_id="c1", reason="spam")
    decision, state = run(state, second, ctx)
    assert decision == [CommentReported(comment_id="c1", reason="spam", hold=True)]
    assert state.comments["c1"].status == "pending"
    decision, state = run(state, on_c1(ApproveComment), ctx)
    assert state.comments["c1"].published and state.comments["c1"].open_reports == 0
    never = ModerationPolicy(hold_after_reports=0, moderators=POLICY.moderators)
    held = run(posted(never), first, context(policy=never))[0]
    assert held == [CommentReported(comment_id="c1", reason="rude", hold=False)]


def test_an_import_is_not_closed_by_todays_rules() -> None:
    policy = ModerationPolicy(auto_close_days=1)
    state = posted(policy)
    later = context(policy=policy, now=T0 + timedelta(days=40), new_comment_id="c2")
    old = post(ADMIN, body="kept from the old blog", comment_id="wp9")
    assert isinstance(run(state, old, later)[0], list)
    decision, _ = run(state, post(BOB), later)
    assert isinstance(decision, Rejection) and decision.code == "thread_locked"
