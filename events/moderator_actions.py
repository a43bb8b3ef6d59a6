"""What moderation commands do to a thread: approve, reject, spam, pin, report, lock. Pure.

Only a site's moderators moderate (`not_moderator`); any reader may report a published comment,
once. Rejecting or marking as spam hides a comment; approving publishes it again.
"""

from events.commands import (
    ApproveComment,
    BanAuthor,
    LockThread,
    MarkSpam,
    ModerationCommand,
    PinComment,
    RejectComment,
    ReportComment,
    UnbanAuthor,
    UnlockThread,
    UnpinComment,
)
from events.decision_state import (
    CommentState,
    Decision,
    DecisionContext,
    ModerationStatus,
    Rejection,
    ThreadState,
    Unchanged,
    existing,
)
from events.thread_events import (
    AuthorBanned,
    AuthorUnbanned,
    CommentApproved,
    CommentMarkedSpam,
    CommentPinned,
    CommentRejected,
    CommentReported,
    CommentUnpinned,
    ThreadLocked,
    ThreadUnlocked,
)

NOT_MODERATOR = Rejection(code="not_moderator", message="only a moderator of this site may do this")


def decide_moderation(
    state: ThreadState, command: ModerationCommand, context: DecisionContext
) -> Decision:
    if not context.moderates(command.site, command.actor):
        return NOT_MODERATOR
    match command:
        case LockThread():
            return Unchanged(code="already_locked") if state.locked else [ThreadLocked()]
        case UnlockThread():
            return [ThreadUnlocked()] if state.locked else Unchanged(code="not_locked")
        case BanAuthor():
            return _ban(command, context)
        case UnbanAuthor():
            if command.ban_id not in state.bans:
                return Rejection(code="ban_not_found", message="no such ban", field="ban_id")
            return [AuthorUnbanned(ban_id=command.ban_id)]
    comment = existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if comment.deleted:
        return Rejection(code="comment_deleted", message="the comment was deleted")
    match command:
        case ApproveComment():
            return _verdict(comment, "approved", [CommentApproved(comment_id=comment.id)])
        case RejectComment():
            return _verdict(comment, "rejected", [CommentRejected(comment_id=comment.id)])
        case MarkSpam():
            return _verdict(comment, "spam", [CommentMarkedSpam(comment_id=comment.id)])
        case PinComment():
            return _pin(comment)
        case UnpinComment():
            return (
                [CommentUnpinned(comment_id=comment.id)]
                if comment.pinned
                else Unchanged(code="not_pinned")
            )


def _verdict(comment: CommentState, status: ModerationStatus, events: Decision) -> Decision:
    """The verdict, unless the comment has it already and no report since (a verdict answers
    the reports: approving a reported comment keeps it up and clears it from the queue)."""
    if comment.status == status and not comment.reported:
        return Unchanged(code=f"already_{status}")
    return events


def _pin(comment: CommentState) -> Decision:
    if comment.parent_id is not None:
        return Rejection(
            code="not_top_level",
            message="only a top-level comment can be pinned",
            field="comment_id",
        )
    if comment.status != "approved":
        return Rejection(code="not_published", message="approve the comment before pinning it")
    return (
        Unchanged(code="already_pinned")
        if comment.pinned
        else [CommentPinned(comment_id=comment.id)]
    )


def decide_report(state: ThreadState, command: ReportComment, context: DecisionContext) -> Decision:
    """Any reader flags a published comment, once. It stays up until a moderator acts, unless it
    reaches the site's `hold_after_reports`: then it is held (reason `reported`)."""
    comment = existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if not comment.published:
        return Rejection(
            code="comment_not_found", message="no such comment in this thread", field="comment_id"
        )
    if command.actor.id in comment.reporters:
        return Unchanged(code="already_reported")
    limit = context.policy.hold_after_reports
    hold = bool(limit) and comment.open_reports + 1 >= limit
    return [CommentReported(comment_id=comment.id, reason=command.reason, hold=hold)]


def _ban(command: BanAuthor, context: DecisionContext) -> Decision:
    if command.until is not None and command.until <= context.now:
        return Rejection(code="invalid_until", message="a ban ends in the future", field="until")
    return [
        AuthorBanned(
            ban_id=command.ban_id or context.new_comment_id,
            subjects=context.ban_subjects,
            until=command.until,
            reason=command.reason,
            hide_comments=command.hide_comments,
        )
    ]
