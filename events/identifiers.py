"""Identifiers shared by commands, events and the HTTP API."""

import base64
import re
import secrets
import uuid
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

THREAD_ID_PATTERN = r"^[A-Za-z0-9._~:-]{1,128}$"
SITE_ID_PATTERN = r"^[A-Za-z0-9._~:-]{1,64}$"
COMMENT_ID_PATTERN = r"^[a-z0-9]{1,32}$"
ACTOR_ID_PATTERN = r"^[A-Za-z0-9._~:@-]{1,128}$"

ThreadId = Annotated[str, StringConstraints(pattern=THREAD_ID_PATTERN)]
SiteId = Annotated[str, StringConstraints(pattern=SITE_ID_PATTERN)]
CommentId = Annotated[str, StringConstraints(pattern=COMMENT_ID_PATTERN)]
ActorId = Annotated[str, StringConstraints(pattern=ACTOR_ID_PATTERN)]


def _non_empty_token(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", value):
        raise ValueError("must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


MessageId = Annotated[str, AfterValidator(_non_empty_token)]
# The same rule checked inside pydantic-core, for ids read back from the log by the million
# (MessageId gives people the friendlier message).
LoggedMessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]


def new_comment_id() -> str:
    """A short random id for a new comment (lowercase base32, 16 characters)."""
    # 80 random bits in base32 (alphabet a-z, 2-7): one read of the system's randomness,
    # where a choice per character costs one each
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()


def new_message_id() -> str:
    """A fresh id for a command, an event or a correlation."""
    return uuid.uuid4().hex
