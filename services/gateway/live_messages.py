"""The SSE messages of a thread's events: `comment` (new to readers: posted, or approved by a
moderator), `update` (edited, deleted, hidden by a moderator or held for its reports, pinned or
unpinned), `likes` (a comment's new count) and `thread` (locked or unlocked), each with the
thread version as its id. A comment held for moderation is told to no one."""

import json
from typing import Any

from events.envelope import EventEnvelope
from events.thread_events import (
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
    ThreadUnlocked,
)
from services.gateway.read_models import ReadModels
from storage.keys import PartitionKeys

NEW = (CommentPosted, CommentApproved)
CHANGED = (
    CommentEdited,
    CommentDeleted,
    CommentRejected,
    CommentMarkedSpam,
    CommentPinned,
    CommentUnpinned,
)
LIVE_TYPES = frozenset(
    cls.__name__
    for cls in (
        *NEW,
        *CHANGED,
        CommentReported,
        CommentLiked,
        CommentUnliked,
        ThreadLocked,
        ThreadUnlocked,
    )
)


def sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    """One SSE message, encoded once for every reader it goes to."""
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {event}", f"data: {json.dumps(data, default=str)}"]
    return ("\n".join(lines) + "\n\n").encode()


async def message_of(
    reads: ReadModels, keys: PartitionKeys, envelope: EventEnvelope
) -> bytes | None:
    """The SSE text of one event as readers see it once the projections have it (None for an
    event readers are not told of)."""
    event = envelope.event()
    site, thread = envelope.site, envelope.thread
    if isinstance(event, CommentReported) and not event.hold:
        return None  # a report is the moderators' business, unless it held the comment
    if isinstance(event, NEW + CHANGED + (CommentReported,)):
        comment, count = await reads.comment_update(keys, site, thread, event.comment_id)
        if comment is None or (isinstance(event, NEW) and comment["status"] != "visible"):
            return None  # held, or hidden again by the time the projection has it
        kind = "comment" if isinstance(event, NEW) else "update"
        return sse(kind, {"comment": comment, "count": count}, envelope.thread_version)
    if isinstance(event, ThreadLocked | ThreadUnlocked):
        locked = isinstance(event, ThreadLocked)
        return sse("thread", {"locked": locked}, envelope.thread_version)
    if isinstance(event, CommentLiked | CommentUnliked):
        count = await reads.like_count(keys, site, thread, event.comment_id)
        return sse("likes", {"id": event.comment_id, "count": count}, envelope.thread_version)
    return None
