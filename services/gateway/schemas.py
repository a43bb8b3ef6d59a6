"""Request and response bodies of the HTTP API (they also make /openapi.json)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from events.commands import TITLE_MAX_CHARS, PageUrl
from events.identifiers import CommentId, MessageId
from events.personal import AuthorDetails, Body


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


class Written(BaseModel):
    """A processed write: the comment's id, the log position to read your write at."""

    id: str | None
    position: str | None = None
    result: str | None = Field(default=None, description="e.g. already_liked: nothing changed")
    author_token: str | None = None


class Queued(BaseModel):
    """The command is queued, not lost; poll `status_url` for its outcome."""

    command_id: str
    status_url: str
    author_token: str | None = None


class Session(BaseModel):
    token: str
    identity: str


class CommandStatus(BaseModel):
    command_id: str
    status: str
    id: str | None = None
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
