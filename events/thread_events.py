"""Events: facts recorded in the log, one class per type, each with its current schema version."""

from datetime import datetime
from typing import Annotated, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from events.identifiers import ActorId, CommentId
from events.moderation import HoldReason
from events.personal import PersonalData, Sealed

# In memory a freshly decided event carries plaintext; the processor seals it before it is
# written, and everything read back from the log carries the sealed form.
Personal = Sealed | PersonalData


class EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: ClassVar[int] = 1


class ThreadStarted(EventBase):
    type: Literal["ThreadStarted"] = "ThreadStarted"
    title: str | None = None
    url: str | None = None


CommentStatus = Literal["approved", "pending", "spam"]
Fingerprint = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
ReportReason = Annotated[str, Field(min_length=1, max_length=500)]
Markup = Literal["markdown", "html"]


class CommentPosted(EventBase):
    """A comment or, with `parent_id`, a reply. v2 renamed v1's `in_reply_to`; v3 added
    `status` (imports keep pending and spam comments as such) and `markup: html` (imports);
    v4 added `held_for`, why the site's policy holds it (then its status is pending), and
    `fingerprint`, a keyed hash of author and body by which a duplicate is known, and
    `spam_score`."""

    schema_version: ClassVar[int] = 4
    type: Literal["CommentPosted"] = "CommentPosted"
    comment_id: CommentId
    parent_id: CommentId | None = None
    markup: Markup = "markdown"
    status: CommentStatus = "approved"
    held_for: tuple[HoldReason, ...] = ()
    fingerprint: Fingerprint | None = None
    spam_score: float | None = None  # the site's trained model's, when it has one
    personal: Personal


class CommentEdited(EventBase):
    type: Literal["CommentEdited"] = "CommentEdited"
    comment_id: CommentId
    personal: Personal


class CommentDeleted(EventBase):
    type: Literal["CommentDeleted"] = "CommentDeleted"
    comment_id: CommentId
    by_moderator: bool = False


class CommentLiked(EventBase):
    type: Literal["CommentLiked"] = "CommentLiked"
    comment_id: CommentId


class CommentUnliked(EventBase):
    type: Literal["CommentUnliked"] = "CommentUnliked"
    comment_id: CommentId


class AuthorErased(EventBase):
    """The author's key was deleted: their comments in this thread read as erased."""

    type: Literal["AuthorErased"] = "AuthorErased"
    author_id: ActorId


class CommentApproved(EventBase):
    """A moderator published a held, rejected or spam comment."""

    type: Literal["CommentApproved"] = "CommentApproved"
    comment_id: CommentId


class CommentRejected(EventBase):
    """A moderator hid a comment (held or visible)."""

    type: Literal["CommentRejected"] = "CommentRejected"
    comment_id: CommentId


class CommentMarkedSpam(EventBase):
    """A moderator hid a comment as spam (a verdict the spam score learns from)."""

    type: Literal["CommentMarkedSpam"] = "CommentMarkedSpam"
    comment_id: CommentId


class CommentPinned(EventBase):
    type: Literal["CommentPinned"] = "CommentPinned"
    comment_id: CommentId


class CommentUnpinned(EventBase):
    type: Literal["CommentUnpinned"] = "CommentUnpinned"
    comment_id: CommentId


class CommentReported(EventBase):
    """A reader flagged a comment for the moderators, with a reason (once per reader)."""

    type: Literal["CommentReported"] = "CommentReported"
    comment_id: CommentId
    reason: ReportReason
    hold: bool = False  # the site's hold_after_reports was reached: held until a verdict


class ThreadLocked(EventBase):
    """A moderator closed the thread: no posts, replies, edits or likes until unlocked."""

    type: Literal["ThreadLocked"] = "ThreadLocked"


class ThreadUnlocked(EventBase):
    type: Literal["ThreadUnlocked"] = "ThreadUnlocked"


BanSubject = Annotated[str, Field(pattern=r"^(identity|email|address):[0-9a-f]{32}$")]


class AuthorBanned(EventBase):
    """A moderator banned an author from the site (in the site's `~bans` thread); who is named
    only by keyed hashes, `kind:digest`."""

    type: Literal["AuthorBanned"] = "AuthorBanned"
    ban_id: str
    subjects: tuple[BanSubject, ...]
    until: datetime | None = None
    reason: ReportReason | None = None
    hide_comments: bool = False


class AuthorUnbanned(EventBase):
    type: Literal["AuthorUnbanned"] = "AuthorUnbanned"
    ban_id: str


ThreadEvent = Annotated[
    ThreadStarted
    | CommentPosted
    | CommentEdited
    | CommentDeleted
    | CommentLiked
    | CommentUnliked
    | AuthorErased
    | CommentApproved
    | CommentRejected
    | CommentMarkedSpam
    | CommentPinned
    | CommentUnpinned
    | CommentReported
    | ThreadLocked
    | ThreadUnlocked
    | AuthorBanned
    | AuthorUnbanned,
    Field(discriminator="type"),
]
thread_event_adapter: TypeAdapter[ThreadEvent] = TypeAdapter(ThreadEvent)

# Every event class by its type name, read off the union above so the two cannot drift apart.
EVENT_CLASSES: dict[str, type[EventBase]] = {
    cls.model_fields["type"].default: cls for cls in get_args(get_args(ThreadEvent)[0])
}
