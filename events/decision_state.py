"""What the decider knows and is told: a thread's state, the context of one decision, and the
answers other than events (a rejection, an unchanged outcome). Pure, no I/O."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from events.actors import Actor
from events.envelope import GENESIS_HASH
from events.moderation import ModerationPolicy, is_moderator
from events.thread_events import ThreadEvent

DEFAULT_EDIT_WINDOW = timedelta(minutes=15)

ModerationStatus = Literal["approved", "pending", "rejected", "spam"]


class CommentState(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    parent_id: str | None = None
    author_id: str
    created_at: datetime
    deleted: bool = False
    likers: frozenset[str] = frozenset()
    status: ModerationStatus = "approved"
    pinned: bool = False
    reporters: frozenset[str] = frozenset()  # every reader who reported it (once each)
    open_reports: int = 0  # reports since the last verdict

    @property
    def reported(self) -> bool:
        return self.open_reports > 0

    @property
    def published(self) -> bool:
        """Approved and not deleted: what readers see, and may like, reply to or report."""
        return self.status == "approved" and not self.deleted


class ThreadState(BaseModel):
    """What the decider needs to know about a thread; rebuilt by folding its events.

    `comments` and `fingerprints` hold only what was read for the command at hand (see
    `comments_needed`): a fingerprint is known to be in the thread when it was asked for."""

    model_config = ConfigDict(frozen=True)

    version: int = 0
    head_hash: str = GENESIS_HASH
    started: bool = False
    title: str | None = None
    url: str | None = None
    locked: bool = False
    first_comment_at: datetime | None = None
    comments: dict[str, CommentState] = {}
    fingerprints: frozenset[str] = frozenset()
    bans: frozenset[str] = frozenset()  # in a site's `~bans` thread: the bans in force (read)


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
    """What the processor tells the decider besides the thread's state: the time, the id a
    new comment gets, and the site's moderation policy with what it needs about the author."""

    now: datetime
    new_comment_id: str
    anonymous_edit_window: timedelta = DEFAULT_EDIT_WINDOW
    policy: ModerationPolicy = field(default_factory=ModerationPolicy)
    approved_before: bool = False  # the author has an approved comment on this site
    fingerprint: str | None = None  # keyed hash of the author and the body of a new comment
    spam_score: float | None = None  # of a new comment, by the site's model (None: no model)
    is_disposable: Callable[[str], bool] | None = None  # default: the maintained list
    banned: bool = False  # the author (identity, email or address) is banned from the site
    ban_subjects: tuple[str, ...] = ()  # a BanAuthor's subjects as keyed hashes

    def moderates(self, site: str, actor: Actor) -> bool:
        return is_moderator(self.policy, site, actor.id, actor.moderator)


Decision = list[ThreadEvent] | Rejection | Unchanged


def existing(state: ThreadState, comment_id: str) -> CommentState | Rejection:
    comment = state.comments.get(comment_id)
    if comment is None:
        return Rejection(
            code="comment_not_found", message="no such comment in this thread", field="comment_id"
        )
    return comment


def closed(state: ThreadState, context: DecisionContext) -> Rejection | None:
    """A thread locked by a moderator, or closed by the site's `auto_close_days`."""
    closes_at = context.policy.closes_at(state.first_comment_at)
    if state.locked or (closes_at is not None and context.now >= closes_at):
        return Rejection(code="thread_locked", message="comments are closed on this thread")
    return None
