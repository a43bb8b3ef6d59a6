"""Server-sent events of one thread: new, edited and deleted comments and like counts.

The thread's own history stream (`...:events`, ids `0-<thread_version>`) is followed with a
blocking XREAD; each event is announced once the projections have caught up with it, so a
client that re-reads the thread sees the same state. The SSE id is the thread version, so a
reconnecting EventSource resumes after the last event it got (`Last-Event-ID`).
"""

import json
from collections.abc import AsyncIterator
from typing import Any

from events.thread_events import (
    CommentDeleted,
    CommentEdited,
    CommentLiked,
    CommentPosted,
    CommentUnliked,
)
from services.gateway.read_models import ReadModels
from storage.event_store import history_envelopes
from storage.keys import PartitionKeys

BLOCK_MS = 15_000
RETRY_MS = 2_000


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {event}", f"data: {json.dumps(data, default=str)}"]
    return "\n".join(lines) + "\n\n"


async def thread_updates(
    reads: ReadModels, keys: PartitionKeys, site: str, thread: str, after_version: int | None
) -> AsyncIterator[str]:
    """The SSE text of a thread from `after_version` (or from now) on; runs until cancelled."""
    stream = keys.thread_events(site, thread)
    if after_version is None:
        last = await reads.redis.xrevrange(stream, count=1)
        cursor = last[0][0] if last else "0-0"
    else:
        cursor = f"0-{after_version}"
    yield f"retry: {RETRY_MS}\n\n"
    while True:
        replies = await reads.redis.xread({stream: cursor}, block=BLOCK_MS, count=100)
        if not replies:
            yield ": keep-alive\n\n"
            continue
        entries = replies[0][1]
        cursor = entries[-1][0]
        for envelope in await history_envelopes(reads.redis, keys, entries):
            await reads.wait_for(keys, envelope.position or "0-0")
            message = await _message(reads, keys, site, thread, envelope.event())
            if message is not None:
                yield sse(*message, event_id=envelope.thread_version)


async def _message(
    reads: ReadModels, keys: PartitionKeys, site: str, thread: str, event: Any
) -> tuple[str, dict[str, Any]] | None:
    if isinstance(event, CommentPosted | CommentEdited | CommentDeleted):
        comment, count = await reads.comment_update(keys, site, thread, event.comment_id)
        if comment is None:
            return None
        kind = "comment" if isinstance(event, CommentPosted) else "update"
        return kind, {"comment": comment, "count": count}
    if isinstance(event, CommentLiked | CommentUnliked):
        count = await reads.like_count(keys, site, thread, event.comment_id)
        return "likes", {"id": event.comment_id, "count": count}
    return None
