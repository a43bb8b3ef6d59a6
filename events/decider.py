"""The thread decider: the one place that says what a command does. Pure, no I/O.

`decide(state, command, context)` returns the events to append, an `Unchanged` outcome (the
command is already satisfied) or a `Rejection` with a machine-readable code.
`evolve(state, envelope)` folds one logged event into the state.

Writing to a thread (post, reply, edit, like) needs it open: not locked by a moderator, not
closed by the site's `auto_close_days`. A new comment is screened by the site's moderation
policy (events/moderation.py): refused, held for a moderator (with the reasons), or published.
Moderators are not screened, and write to a closed thread.
"""

from events.actors import Actor
from events.commands import (
    BANS_THREAD,
    ApproveComment,
    BanAuthor,
    Command,
    DeleteComment,
    EditComment,
    EraseAuthor,
    LikeComment,
    LockThread,
    MarkSpam,
    PinComment,
    PostComment,
    RejectComment,
    Reply,
    ReportComment,
    UnbanAuthor,
    UnlikeComment,
    UnlockThread,
    UnpinComment,
)
from events.decision_state import (
    DEFAULT_EDIT_WINDOW,
    CommentState,
    Decision,
    DecisionContext,
    ModerationStatus,
    Rejection,
    ThreadState,
    Unchanged,
    closed,
    existing,
)
from events.envelope import EventEnvelope
from events.moderation import HoldReason, NewComment, Refusal, screen
from events.moderator_actions import decide_moderation, decide_report
from events.personal import PersonalData
from events.thread_events import (
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

__all__ = [
    "DEFAULT_EDIT_WINDOW",
    "CommentState",
    "Decision",
    "DecisionContext",
    "Rejection",
    "ThreadState",
    "Unchanged",
    "bans_needed",
    "comments_needed",
    "decide",
    "evolve",
]


def decide(state: ThreadState, command: Command, context: DecisionContext) -> Decision:
    """Decide what `command` does to the thread in `state`."""
    is_ban = isinstance(command, BanAuthor | UnbanAuthor)
    if is_ban != (command.thread == BANS_THREAD):
        return Rejection(
            code="reserved_thread",
            message=f"the thread {BANS_THREAD} holds a site's bans and nothing else",
            field="thread",
        )
    match command:
        case (
            ApproveComment()
            | RejectComment()
            | MarkSpam()
            | PinComment()
            | UnpinComment()
            | LockThread()
            | UnlockThread()
            | BanAuthor()
            | UnbanAuthor()
        ):
            return decide_moderation(state, command, context)
        case ReportComment():
            return decide_report(state, command, context)
        case DeleteComment():
            return _delete(state, command, context)
        case EraseAuthor():
            return _erase(state, command)
    moderator = context.moderates(command.site, command.actor)
    # An import keeps what the old platform had: not screened, not closed by today's rules.
    exempt = moderator or _imported(command)
    if not exempt and context.banned:
        return Rejection(code="banned", message="you are banned from commenting on this site")
    if not exempt and (refused := closed(state, context)) is not None:
        return refused
    match command:
        case Reply():
            return _reply(state, command, context, moderator)
        case PostComment():
            return _post(state, command, context, moderator)
        case EditComment():
            return _edit(state, command, context)
        case LikeComment():
            return _like(state, command)
        case UnlikeComment():
            return _unlike(state, command)
    raise AssertionError(f"no rule for {command.type}")  # pragma: no cover


_VERDICTS: dict[type, ModerationStatus] = {
    CommentApproved: "approved",
    CommentRejected: "rejected",
    CommentMarkedSpam: "spam",
}


def evolve(state: ThreadState, envelope: EventEnvelope) -> ThreadState:
    """Fold one logged event into the decider state."""
    event = envelope.event()
    comments = state.comments
    update: dict[str, object] = {"version": envelope.thread_version, "head_hash": envelope.hash}
    match event:
        case ThreadStarted():
            update |= {"started": True, "title": event.title, "url": event.url}
        case CommentPosted():
            comment = CommentState(
                id=event.comment_id,
                parent_id=event.parent_id,
                author_id=envelope.actor.id,
                created_at=envelope.occurred_at,
                status=event.status,
            )
            update["comments"] = {**comments, event.comment_id: comment}
            if state.first_comment_at is None:
                update["first_comment_at"] = envelope.occurred_at
            if event.fingerprint is not None:
                update["fingerprints"] = state.fingerprints | {event.fingerprint}
        case CommentDeleted():
            update["comments"] = _replace(comments, event.comment_id, deleted=True)
        case CommentLiked():
            likers = comments[event.comment_id].likers | {envelope.actor.id}
            update["comments"] = _replace(comments, event.comment_id, likers=likers)
        case CommentUnliked():
            likers = comments[event.comment_id].likers - {envelope.actor.id}
            update["comments"] = _replace(comments, event.comment_id, likers=likers)
        case CommentApproved() | CommentRejected() | CommentMarkedSpam():
            status = _VERDICTS[type(event)]
            update["comments"] = _replace(comments, event.comment_id, status=status, open_reports=0)
        case CommentPinned() | CommentUnpinned():
            pinned = isinstance(event, CommentPinned)
            update["comments"] = _replace(comments, event.comment_id, pinned=pinned)
        case CommentReported():
            reporters = comments[event.comment_id].reporters | {envelope.actor.id}
            update["comments"] = _replace(
                comments,
                event.comment_id,
                reporters=reporters,
                open_reports=comments[event.comment_id].open_reports + 1,
                **({"status": "pending"} if event.hold else {}),
            )
        case ThreadLocked() | ThreadUnlocked():
            update["locked"] = isinstance(event, ThreadLocked)
        case AuthorBanned():
            update["bans"] = state.bans | {event.ban_id}
        case AuthorUnbanned():
            update["bans"] = state.bans - {event.ban_id}
        case CommentEdited() | AuthorErased():
            pass
    return state.model_copy(update=update)


def comments_needed(command: Command) -> frozenset[str] | None:
    """The comments `decide` looks at for `command` (None: every comment of the thread)."""
    match command:
        case EraseAuthor():
            return None
        case PostComment():  # and Reply
            named = {command.comment_id, getattr(command, "parent_id", None)}
            return frozenset(cid for cid in named if cid is not None)
        case LockThread() | UnlockThread() | BanAuthor() | UnbanAuthor():
            return frozenset()
        case _:
            return frozenset({command.comment_id})


def bans_needed(command: Command) -> frozenset[str]:
    """The bans (of a site's `~bans` thread) `decide` looks at for `command`."""
    return frozenset({command.ban_id}) if isinstance(command, UnbanAuthor) else frozenset()


def _replace(
    comments: dict[str, CommentState], comment_id: str, **changes: object
) -> dict[str, CommentState]:
    return {**comments, comment_id: comments[comment_id].model_copy(update=changes)}


def _post(
    state: ThreadState, command: PostComment, context: DecisionContext, moderator: bool
) -> Decision:
    imported = command.comment_id is not None or command.status != "approved"
    if (imported or command.markup != "markdown") and not _is_operator(command.actor):
        return Rejection(
            code="not_allowed",
            message="only an operator (an import) may set comment_id, status or markup",
        )
    if command.comment_id is not None and command.comment_id in state.comments:
        return Unchanged(code="already_imported")
    held: tuple[HoldReason, ...] = ()
    if not (moderator or imported):
        screened = screen(
            context.policy,
            NewComment(
                body=command.body,
                email=command.author.email,
                approved_before=context.approved_before,
                duplicate=context.fingerprint in state.fingerprints,
                spam_score=context.spam_score,
            ),
            context.is_disposable,
        )
        if isinstance(screened, Refusal):
            return Rejection(code=screened.code, message=screened.message, field=screened.field)
        held = screened
    events: list[ThreadEvent] = []
    if not state.started:
        events.append(ThreadStarted(title=command.title, url=command.url))
    events.append(
        CommentPosted(
            comment_id=command.comment_id or context.new_comment_id,
            parent_id=getattr(command, "parent_id", None),
            markup=command.markup,
            status="pending" if held else command.status,
            held_for=held,
            fingerprint=context.fingerprint,
            spam_score=context.spam_score,
            personal=PersonalData(
                body=command.body,
                name=command.author.name,
                email=command.author.email,
                website=command.author.website,
            ),
        )
    )
    return events


def _reply(
    state: ThreadState, command: Reply, context: DecisionContext, moderator: bool
) -> Decision:
    parent = state.comments.get(command.parent_id)
    # (a held or hidden comment is not there for anyone but a moderator to answer)
    if parent is None or (parent.status != "approved" and not moderator):
        return Rejection(
            code="parent_not_found",
            message="the comment you reply to does not exist in this thread",
            field="parent_id",
        )
    if parent.deleted:
        return Rejection(
            code="parent_deleted",
            message="the comment you reply to was deleted",
            field="parent_id",
        )
    return _post(state, command, context, moderator)


def _may_change(
    comment: CommentState, command: EditComment | DeleteComment, context: DecisionContext
) -> Rejection | None:
    actor = command.actor
    if context.moderates(command.site, actor):
        return None
    if comment.author_id != actor.id:
        return Rejection(code="not_author", message="only the author or a moderator may do this")
    if (
        actor.kind == "anonymous"
        and context.now - comment.created_at > context.anonymous_edit_window
    ):
        return Rejection(
            code="edit_window_closed",
            message="anonymous comments can only be changed shortly after posting",
        )
    return None


def _edit(state: ThreadState, command: EditComment, context: DecisionContext) -> Decision:
    comment = existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if comment.deleted:
        return Rejection(code="comment_deleted", message="a deleted comment cannot be edited")
    refused = _may_change(comment, command, context)
    if refused is not None:
        return refused
    return [CommentEdited(comment_id=comment.id, personal=PersonalData(body=command.body))]


def _delete(state: ThreadState, command: DeleteComment, context: DecisionContext) -> Decision:
    comment = existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if comment.deleted:
        return Unchanged(code="already_deleted")
    refused = _may_change(comment, command, context)
    if refused is not None:
        return refused
    moderator = context.moderates(command.site, command.actor)
    by_moderator = moderator and command.actor.id != comment.author_id
    return [CommentDeleted(comment_id=comment.id, by_moderator=by_moderator)]


def _like(state: ThreadState, command: LikeComment) -> Decision:
    comment = existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if comment.deleted:
        return Rejection(code="comment_deleted", message="a deleted comment cannot be liked")
    if comment.status != "approved":
        return Rejection(
            code="comment_not_found", message="no such comment in this thread", field="comment_id"
        )
    if command.actor.id in comment.likers:
        return Unchanged(code="already_liked")
    return [CommentLiked(comment_id=comment.id)]


def _unlike(state: ThreadState, command: UnlikeComment) -> Decision:
    comment = existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if command.actor.id not in comment.likers:
        return Unchanged(code="not_liked")
    return [CommentUnliked(comment_id=comment.id)]


def _imported(command: Command) -> bool:
    """A comment an operator imports: with its original id or status."""
    return (
        isinstance(command, PostComment)
        and (command.comment_id is not None or command.status != "approved")
        and _is_operator(command.actor)
    )


def _is_operator(actor: Actor) -> bool:
    return actor.moderator or actor.kind == "service"


def _erase(state: ThreadState, command: EraseAuthor) -> Decision:
    if not _is_operator(command.actor):
        return Rejection(code="not_allowed", message="only an operator may erase an author")
    if not any(c.author_id == command.author_id for c in state.comments.values()):
        return Unchanged(code="nothing_to_erase")
    return [AuthorErased(author_id=command.author_id)]
