"""The audit trail: each event of the log told for people (when, what, who, which command,
what changed), made on demand from the log and never kept in Redis."""

from datetime import datetime

from pydantic import BaseModel

from events.envelope import EventEnvelope
from events.personal import PersonalData
from events.thread_events import (
    AuthorBanned,
    AuthorErased,
    AuthorUnbanned,
    CommentApproved,
    CommentDeleted,
    CommentEdited,
    CommentLiked,
    CommentMarkedSpam,
    CommentPinned,
    CommentPosted,
    CommentRejected,
    CommentReported,
    CommentUnliked,
    CommentUnpinned,
    ThreadLocked,
    ThreadStarted,
    ThreadUnlocked,
)
from storage.key_vault import AuthorKeyVault
from storage.unsealing import personal_data

ERASED = "[erased]"


class HistoryLine(BaseModel):
    """One event, for people: when, what, who, which command, and what changed."""

    occurred_at: datetime
    position: str | None
    site: str
    thread: str
    thread_version: int
    type: str
    actor: str
    command_id: str
    comment_id: str | None
    change: str


def describe(envelope: EventEnvelope, personal: PersonalData | None) -> HistoryLine:
    """One event as a line; `personal` is its unsealed data (None: erased or none)."""
    event = envelope.event()
    body = personal.body if personal else ERASED
    match event:
        case ThreadStarted():
            change = f"thread started: title {event.title!r}, url {event.url!r}"
        case CommentPosted():
            name = (personal.name or "Anonymous") if personal else ERASED
            reply = f" in reply to {event.parent_id}" if event.parent_id else ""
            change = f"posted{reply} as {name!r}: {body!r}"
            if event.held_for:
                change += f" (held for moderation: {', '.join(event.held_for)})"
            elif event.status != "approved":
                change += f" ({event.status})"
        case CommentEdited():
            change = f"edited to: {body!r}"
        case CommentDeleted():
            change = "deleted by a moderator" if event.by_moderator else "deleted by its author"
        case CommentLiked():
            change = "liked"
        case CommentUnliked():
            change = "unliked"
        case AuthorErased():
            change = f"author {event.author_id} erased"
        case CommentApproved():
            change = "approved by a moderator"
        case CommentRejected():
            change = "rejected by a moderator"
        case CommentMarkedSpam():
            change = "marked as spam by a moderator"
        case CommentPinned():
            change = "pinned by a moderator"
        case CommentUnpinned():
            change = "unpinned by a moderator"
        case CommentReported():
            change = f"reported: {event.reason!r}"
        case ThreadLocked():
            change = "thread locked by a moderator"
        case ThreadUnlocked():
            change = "thread unlocked by a moderator"
        case AuthorBanned():
            kinds = ", ".join(sorted({s.partition(":")[0] for s in event.subjects}))
            until = f" until {event.until.isoformat()}" if event.until else ""
            why = f": {event.reason!r}" if event.reason else ""
            hide = ", their comments hidden" if event.hide_comments else ""
            change = f"ban {event.ban_id} by {kinds}{until}{hide}{why}"
        case AuthorUnbanned():
            change = f"ban {event.ban_id} lifted"
    return HistoryLine(
        occurred_at=envelope.occurred_at,
        position=envelope.position,
        site=envelope.site,
        thread=envelope.thread,
        thread_version=envelope.thread_version,
        type=envelope.type,
        actor=envelope.actor.id,
        command_id=envelope.command_id,
        comment_id=getattr(event, "comment_id", None),
        change=change,
    )


async def told(vault: AuthorKeyVault, envelope: EventEnvelope) -> HistoryLine:
    """One event as an audit line, its personal data unsealed if its author's key is held."""
    return describe(envelope, await personal_data(vault, envelope))
