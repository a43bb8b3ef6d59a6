"""Events as they were written under schema versions that are no longer current: the log keeps
them as written and reading upcasts them (events/upcasters.py). These models describe them,
for the published JSON Schemas (docs/schemas/events/<Type>.v<version>.schema.json) and for the
test that the history fixture's events match them."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from events.identifiers import CommentId
from events.thread_events import CommentStatus, EventBase, Markup, Personal


class CommentPostedV1(BaseModel):
    """v1: the parent was `in_reply_to`; no markup (always markdown)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="CommentPosted v1")
    type: Literal["CommentPosted"] = "CommentPosted"
    comment_id: CommentId
    in_reply_to: CommentId | None = None
    personal: Personal


class CommentPostedV2(BaseModel):
    """v2: `parent_id`, and `markup` (markdown only); every comment published on posting."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="CommentPosted v2")
    type: Literal["CommentPosted"] = "CommentPosted"
    comment_id: CommentId
    parent_id: CommentId | None = None
    markup: Literal["markdown"] = "markdown"
    personal: Personal


class CommentPostedV3(BaseModel):
    """v3: `status` (imports keep pending and spam comments) and `markup: html` (imports)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="CommentPosted v3")
    type: Literal["CommentPosted"] = "CommentPosted"
    comment_id: CommentId
    parent_id: CommentId | None = None
    markup: Markup = "markdown"
    status: CommentStatus = "approved"
    personal: Personal


PAST_VERSIONS: dict[tuple[str, int], type[BaseModel]] = {
    ("CommentPosted", 1): CommentPostedV1,
    ("CommentPosted", 2): CommentPostedV2,
    ("CommentPosted", 3): CommentPostedV3,
}


def model_of(event_type: str, version: int, current: type[EventBase]) -> type[BaseModel]:
    """The model of `event_type` at `version` (`current` when it is the current one)."""
    if version == current.schema_version:
        return current
    return PAST_VERSIONS[(event_type, version)]
