"""Commands: what a reader or a service asks the system to do, as sent on `cs:{p}:commands`."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from events.actors import Actor
from events.identifiers import ActorId, CommentId, MessageId, SiteId, ThreadId, new_message_id
from events.personal import AuthorDetails, Body, Email, http_url
from events.thread_events import CommentStatus, Markup, ReportReason

TITLE_MAX_CHARS = 300
PAGE_URL_MAX_CHARS = 2000
PageUrl = Annotated[str, http_url(PAGE_URL_MAX_CHARS)]


class CommandBase(BaseModel):
    """Fields every command carries: its idempotency key, correlation, actor and thread."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command_id: MessageId = Field(default_factory=new_message_id)
    correlation_id: MessageId | None = None
    site: SiteId = "default"
    thread: ThreadId
    actor: Actor

    @property
    def correlation(self) -> str:
        return self.correlation_id or self.command_id


class PostComment(CommandBase):
    """A new top-level comment; the first one on a thread also creates the thread."""

    type: Literal["PostComment"] = "PostComment"
    body: Body
    author: AuthorDetails = AuthorDetails()
    title: Annotated[str, Field(max_length=TITLE_MAX_CHARS)] | None = None
    url: PageUrl | None = None
    # A keyed hash of the client address (the gateway's), so that address bans hold.
    address_key: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")] | None = None
    # For imports by an operator only: keep the original id, status and markup.
    comment_id: CommentId | None = None
    status: CommentStatus = "approved"
    markup: Markup = "markdown"


class Reply(PostComment):
    """A comment answering `parent_id` in the same thread."""

    type: Literal["Reply"] = "Reply"  # type: ignore[assignment]
    parent_id: CommentId


class EditComment(CommandBase):
    type: Literal["EditComment"] = "EditComment"
    comment_id: CommentId
    body: Body


class DeleteComment(CommandBase):
    type: Literal["DeleteComment"] = "DeleteComment"
    comment_id: CommentId


class LikeComment(CommandBase):
    type: Literal["LikeComment"] = "LikeComment"
    comment_id: CommentId


class UnlikeComment(CommandBase):
    type: Literal["UnlikeComment"] = "UnlikeComment"
    comment_id: CommentId


class EraseAuthor(CommandBase):
    """Crypto-shredding, thread by thread: the author's comments show as erased from now on.
    (The key itself is deleted from the vault by the erasure tool, which sends this.)"""

    type: Literal["EraseAuthor"] = "EraseAuthor"
    author_id: ActorId


class ApproveComment(CommandBase):
    type: Literal["ApproveComment"] = "ApproveComment"
    comment_id: CommentId


class RejectComment(CommandBase):
    type: Literal["RejectComment"] = "RejectComment"
    comment_id: CommentId


class MarkSpam(CommandBase):
    type: Literal["MarkSpam"] = "MarkSpam"
    comment_id: CommentId


class PinComment(CommandBase):
    type: Literal["PinComment"] = "PinComment"
    comment_id: CommentId


class UnpinComment(CommandBase):
    type: Literal["UnpinComment"] = "UnpinComment"
    comment_id: CommentId


class ReportComment(CommandBase):
    """Any reader may flag a comment for the moderators, once."""

    type: Literal["ReportComment"] = "ReportComment"
    comment_id: CommentId
    reason: ReportReason


class LockThread(CommandBase):
    type: Literal["LockThread"] = "LockThread"


class UnlockThread(CommandBase):
    type: Literal["UnlockThread"] = "UnlockThread"


# Bans are a site's, kept in a thread of their own that holds nothing else.
BANS_THREAD = "~bans"
BanId = Annotated[str, Field(pattern=r"^[a-z0-9]{1,32}$")]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class BanAuthor(CommandBase):
    """Refuse an author's posts, replies, edits and likes on the site (until `until`), known by
    identity, email or client address; these are kept only as keyed hashes. `hide_comments`
    also rejects the identity's published comments."""

    type: Literal["BanAuthor"] = "BanAuthor"
    thread: ThreadId = BANS_THREAD
    ban_id: BanId | None = None
    identity: ActorId | None = None
    email: Email | None = None
    address: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    until: datetime | None = None
    reason: Reason | None = None
    hide_comments: bool = False

    @model_validator(mode="after")
    def _names_someone(self) -> "BanAuthor":
        if self.identity is None and self.email is None and self.address is None:
            raise ValueError("name an identity, an email or an address")
        return self


class UnbanAuthor(CommandBase):
    type: Literal["UnbanAuthor"] = "UnbanAuthor"
    thread: ThreadId = BANS_THREAD
    ban_id: BanId


# The commands only a site's moderators may send.
ModerationCommand = (
    ApproveComment
    | RejectComment
    | MarkSpam
    | PinComment
    | UnpinComment
    | LockThread
    | UnlockThread
    | BanAuthor
    | UnbanAuthor
)

Command = Annotated[
    PostComment
    | Reply
    | EditComment
    | DeleteComment
    | LikeComment
    | UnlikeComment
    | EraseAuthor
    | ApproveComment
    | RejectComment
    | MarkSpam
    | PinComment
    | UnpinComment
    | ReportComment
    | LockThread
    | UnlockThread
    | BanAuthor
    | UnbanAuthor,
    Field(discriminator="type"),
]
command_adapter: TypeAdapter[Command] = TypeAdapter(Command)


def parse_command(raw: str | bytes) -> Command:
    """Parse a command's JSON; raises pydantic.ValidationError naming the bad field."""
    return command_adapter.validate_json(raw)
