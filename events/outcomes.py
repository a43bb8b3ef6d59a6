"""Outcomes: the answer to one command, sent back to whoever is waiting for it."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

OutcomeStatus = Literal["accepted", "rejected"]


class Outcome(BaseModel):
    """`accepted` with the new comment id and log position, or `rejected` with a code."""

    model_config = ConfigDict(frozen=True)

    command_id: str
    status: OutcomeStatus
    code: str | None = None
    message: str | None = None
    field: str | None = None
    comment_id: str | None = None
    comment_status: str | None = None  # a new comment's: approved, or pending (held)
    held_for: tuple[str, ...] | None = None  # why the site's policy held it
    position: str | None = None
    thread_version: int | None = None
    site: str | None = None
    thread: str | None = None
