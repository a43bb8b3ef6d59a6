"""The thread decider: the one place that says what a command does. Pure, no I/O.

`decide(state, command, context)` returns the events to append, an `Unchanged` outcome (the
command is already satisfied) or a `Rejection` with a machine-readable code.
`evolve(state, envelope)` folds one logged event into the state.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

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
from events.envelope import GENESIS_HASH, EventEnvelope
from events.personal import PersonalData
from events.thread_events import (
    AuthorErased,
    CommentDeleted,
    CommentEdited,
    CommentLiked,
    CommentPosted,
    CommentUnliked,
    ThreadEvent,
    ThreadStarted,
)

DEFAULT_EDIT_WINDOW = timedelta(minutes=15)


class CommentState(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    parent_id: str | None = None
    author_id: str
    created_at: datetime
    deleted: bool = False
    likers: frozenset[str] = frozenset()


class ThreadState(BaseModel):
    """What the decider needs to know about a thread; rebuilt by folding its events."""

    model_config = ConfigDict(frozen=True)

    version: int = 0
    head_hash: str = GENESIS_HASH
    started: bool = False
    title: str | None = None
    url: str | None = None
    comments: dict[str, CommentState] = {}


class Rejection(BaseModel):
    """A command refused, with a stable code for machines and a message for people."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    field: str | None = None


class Unchanged(BaseModel):
    """A command that is already satisfied (e.g. `already_liked`): accepted, nothing appended."""

    model_config = ConfigDict(frozen=True)

    code: str


@dataclass(frozen=True)
class DecisionContext:
    now: datetime
    new_comment_id: str
    anonymous_edit_window: timedelta = DEFAULT_EDIT_WINDOW


Decision = list[ThreadEvent] | Rejection | Unchanged


def decide(state: ThreadState, command: Command, context: DecisionContext) -> Decision:
    """Decide what `command` does to the thread in `state`."""
    match command:
        case Reply():
            return _reply(state, command, context)
        case PostComment():
            return _post(state, command, context)
        case EditComment():
            return _edit(state, command, context)
        case DeleteComment():
            return _delete(state, command, context)
        case LikeComment():
            return _like(state, command)
        case UnlikeComment():
            return _unlike(state, command)
        case EraseAuthor():
            return _erase(state, command)


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
            )
            update["comments"] = {**comments, event.comment_id: comment}
        case CommentDeleted():
            update["comments"] = _replace(comments, event.comment_id, deleted=True)
        case CommentLiked():
            likers = comments[event.comment_id].likers | {envelope.actor.id}
            update["comments"] = _replace(comments, event.comment_id, likers=likers)
        case CommentUnliked():
            likers = comments[event.comment_id].likers - {envelope.actor.id}
            update["comments"] = _replace(comments, event.comment_id, likers=likers)
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
        case _:
            return frozenset({command.comment_id})


def _replace(
    comments: dict[str, CommentState], comment_id: str, **changes: object
) -> dict[str, CommentState]:
    return {**comments, comment_id: comments[comment_id].model_copy(update=changes)}


def _post(state: ThreadState, command: PostComment, context: DecisionContext) -> Decision:
    imported = command.comment_id is not None or command.status != "approved"
    if (imported or command.markup != "markdown") and not _is_operator(command.actor):
        return Rejection(
            code="not_allowed",
            message="only an operator (an import) may set comment_id, status or markup",
        )
    if command.comment_id is not None and command.comment_id in state.comments:
        return Unchanged(code="already_imported")
    events: list[ThreadEvent] = []
    if not state.started:
        events.append(ThreadStarted(title=command.title, url=command.url))
    events.append(
        CommentPosted(
            comment_id=command.comment_id or context.new_comment_id,
            parent_id=getattr(command, "parent_id", None),
            markup=command.markup,
            status=command.status,
            personal=PersonalData(
                body=command.body,
                name=command.author.name,
                email=command.author.email,
                website=command.author.website,
            ),
        )
    )
    return events


def _reply(state: ThreadState, command: Reply, context: DecisionContext) -> Decision:
    parent = state.comments.get(command.parent_id)
    if parent is None:
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
    return _post(state, command, context)


def _existing(state: ThreadState, comment_id: str) -> CommentState | Rejection:
    comment = state.comments.get(comment_id)
    if comment is None:
        return Rejection(
            code="comment_not_found", message="no such comment in this thread", field="comment_id"
        )
    return comment


def _may_change(
    comment: CommentState, command: EditComment | DeleteComment, context: DecisionContext
) -> Rejection | None:
    actor = command.actor
    if actor.moderator:
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
    comment = _existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if comment.deleted:
        return Rejection(code="comment_deleted", message="a deleted comment cannot be edited")
    refused = _may_change(comment, command, context)
    if refused is not None:
        return refused
    return [CommentEdited(comment_id=comment.id, personal=PersonalData(body=command.body))]


def _delete(state: ThreadState, command: DeleteComment, context: DecisionContext) -> Decision:
    comment = _existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if comment.deleted:
        return Unchanged(code="already_deleted")
    refused = _may_change(comment, command, context)
    if refused is not None:
        return refused
    by_moderator = command.actor.moderator and command.actor.id != comment.author_id
    return [CommentDeleted(comment_id=comment.id, by_moderator=by_moderator)]


def _like(state: ThreadState, command: LikeComment) -> Decision:
    comment = _existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if comment.deleted:
        return Rejection(code="comment_deleted", message="a deleted comment cannot be liked")
    if command.actor.id in comment.likers:
        return Unchanged(code="already_liked")
    return [CommentLiked(comment_id=comment.id)]


def _unlike(state: ThreadState, command: UnlikeComment) -> Decision:
    comment = _existing(state, command.comment_id)
    if isinstance(comment, Rejection):
        return comment
    if command.actor.id not in comment.likers:
        return Unchanged(code="not_liked")
    return [CommentUnliked(comment_id=comment.id)]


def _is_operator(actor: Actor) -> bool:
    return actor.moderator or actor.kind == "service"


def _erase(state: ThreadState, command: EraseAuthor) -> Decision:
    if not _is_operator(command.actor):
        return Rejection(code="not_allowed", message="only an operator may erase an author")
    if not any(c.author_id == command.author_id for c in state.comments.values()):
        return Unchanged(code="nothing_to_erase")
    return [AuthorErased(author_id=command.author_id)]
