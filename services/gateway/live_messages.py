"""The SSE messages of a thread's events: `comment` (new), `update` (edited or deleted) and
`likes` (a comment's new count), each with the thread version as its id."""

import json
from typing import Any

from events.envelope import EventEnvelope
from events.thread_events import (
    CommentDeleted,
    CommentEdited,
    CommentLiked,
    CommentPosted,
    CommentUnliked,
)
from services.gateway.read_models import ReadModels
from storage.keys import PartitionKeys

LIVE_TYPES = frozenset(
    {"CommentPosted", "CommentEdited", "CommentDeleted", "CommentLiked", "CommentUnliked"}
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
    if isinstance(event, CommentPosted | CommentEdited | CommentDeleted):
        comment, count = await reads.comment_update(keys, site, thread, event.comment_id)
        if comment is None:
            return None
        kind = "comment" if isinstance(event, CommentPosted) else "update"
        return sse(kind, {"comment": comment, "count": count}, envelope.thread_version)
    if isinstance(event, CommentLiked | CommentUnliked):
        count = await reads.like_count(keys, site, thread, event.comment_id)
        return sse("likes", {"id": event.comment_id, "count": count}, envelope.thread_version)
    return None
