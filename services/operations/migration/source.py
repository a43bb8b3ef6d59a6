"""What an export holds, whatever platform wrote it: threads and their comments."""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from events.identifiers import ACTOR_ID_PATTERN, THREAD_ID_PATTERN

SourceStatus = Literal["approved", "pending", "spam"]


@dataclass
class SourceComment:
    source_id: str
    parent_source_id: str | None
    identity: str
    name: str | None
    email: str | None
    website: str | None
    body_html: str
    created_at: datetime
    status: SourceStatus
    likes: int = 0


@dataclass
class SourceThread:
    thread_id: str
    title: str | None
    url: str | None
    comments: list[SourceComment] = field(default_factory=list)


@dataclass
class Skipped:
    thread: str
    source_id: str
    reason: str


@dataclass
class ParsedExport:
    threads: list[SourceThread]
    skipped: list[Skipped]


def thread_id_or(candidate: str | None, fallback: str) -> str:
    """The platform's slug or identifier when it is a valid thread id, else `fallback`."""
    if candidate and re.fullmatch(THREAD_ID_PATTERN, candidate):
        return candidate
    return fallback


def identity_for(prefix: str, *, user: str | None, email: str | None, name: str | None) -> str:
    """A stable identity for an imported author: their account, else a hash of email or name."""
    if user and re.fullmatch(ACTOR_ID_PATTERN, f"{prefix}-user:{user}"):
        return f"{prefix}-user:{user}"
    if email:
        return f"{prefix}-email:{hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]}"
    seed = (name or "anonymous").strip().lower()
    return f"{prefix}-name:{hashlib.sha256(seed.encode()).hexdigest()[:24]}"
