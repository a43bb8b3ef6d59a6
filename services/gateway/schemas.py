"""Request and response bodies of the HTTP API (they also make /openapi.json)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.commands import TITLE_MAX_CHARS, PageUrl
from events.identifiers import ActorId, CommentId, MessageId, SiteId, ThreadId
from events.personal import AuthorDetails, Body, Email


class NewComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body
    parent_id: CommentId | None = None
    author: AuthorDetails = AuthorDetails()
    title: Annotated[str, Field(max_length=TITLE_MAX_CHARS)] | None = None
    url: PageUrl | None = None
    command_id: MessageId | None = None
    hp: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="honeypot: a field people never see and must leave empty"
    )
    elapsed_ms: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="how long the form was open before it was sent"
    )


class CommentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body


class CommentSource(BaseModel):
    """A comment's body as its author wrote it, for the edit form."""

    id: str
    markup: str = Field(description="markdown, or html for an imported comment")
    source: str


class Written(BaseModel):
    """A processed write: the comment's id, the log position to read your write at."""

    id: str | None
    position: str | None = None
    result: str | None = Field(default=None, description="e.g. already_liked: nothing changed")
    status: str | None = Field(
        default=None,
        description="a new comment's: approved, or pending (held for a moderator; its author"
        " sees it with their token, nobody else does until it is approved)",
    )
    held_for: list[str] | None = Field(default=None, description="why it was held")
    author_token: str | None = None


class Queued(BaseModel):
    """The command is queued, not lost; poll `status_url` for its outcome."""

    command_id: str
    status_url: str
    author_token: str | None = None


class Session(BaseModel):
    token: str
    identity: str


class Me(BaseModel):
    """Who the caller is on a site: their identity and whether they moderate it."""

    identity: str
    kind: str
    moderator: bool


class CommandStatus(BaseModel):
    command_id: str
    status: str
    id: str | None = None
    comment_status: str | None = None
    position: str | None = None
    code: str | None = None
    message: str | None = None
    field: str | None = None


class Liker(BaseModel):
    """Someone who likes a comment: their name if they have commented in the thread."""

    name: str | None
    avatar: str
    liked_at: datetime


class LikersPage(BaseModel):
    count: int
    likers: list[Liker]
    next_cursor: str | None


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """Every error of the API has this shape."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 413, 422, 429, 503)
}


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500)]


class QueueAuthor(BaseModel):
    id: str
    name: str | None
    website: str | None
    history: dict[str, int] = Field(description="verdicts on the author's comments so far")


class QueuedComment(BaseModel):
    """A comment waiting for a moderator, with why, who wrote it and what it says."""

    thread: str
    id: str
    parent_id: str | None
    status: str
    held_for: list[str]
    spam_score: float | None = Field(description="the site's trained spam model's score")
    reports: int
    report_reasons: list[str]
    created_at: datetime
    queued_at: datetime
    author: QueueAuthor
    html: str
    source: str


class QueuePage(BaseModel):
    site: str
    queue: str
    sizes: dict[str, int] = Field(description="items in each queue")
    items: list[QueuedComment]
    next_cursor: str | None


class NewBan(BaseModel):
    """Whom to ban from the site: an identity, an email or a client address (kept only as keyed
    hashes), until when (none: for good), why, and whether to hide the identity's comments."""

    model_config = ConfigDict(extra="forbid")

    site: SiteId | None = Field(default=None, description="the site (as the `site` parameter)")
    identity: ActorId | None = None
    thread: ThreadId | None = Field(default=None, description="with comment_id: its author")
    comment_id: CommentId | None = None
    email: Email | None = None
    address: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    until: datetime | None = None
    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    hide_comments: bool = False

    @model_validator(mode="after")
    def _names_someone(self) -> "NewBan":
        named = (self.identity, self.email, self.address, self.comment_id)
        if all(value is None for value in named):
            raise ValueError("name an identity, an email, an address or a comment")
        if (self.thread is None) != (self.comment_id is None):
            raise ValueError("a comment is named by thread and comment_id together")
        return self


class Ban(BaseModel):
    id: str
    kinds: list[str] = Field(description="what it bans by: identity, email, address")
    until: datetime | None
    reason: str | None
    hide_comments: bool
    by: str
    at: datetime


class BanList(BaseModel):
    site: str
    bans: list[Ban]
