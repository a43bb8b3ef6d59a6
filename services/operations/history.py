"""Who did what when: a thread's events, the thread as readers saw it at a moment, one
comment's versions, everything one identity did. All from the log alone."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from events.envelope import EventEnvelope
from events.log_entry import decode_entry, entry_json
from events.thread_events import (
    CommentLiked,
    CommentUnliked,
)
from projections.audit_trail import HistoryLine, told
from projections.thread_view.model import ThreadSlice, apply
from projections.thread_view.query import ThreadView, build_thread_view
from services.privacy import actor_events
from storage.connection import Store
from storage.event_store import EventStore
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys
from storage.log_reader import log_entries
from storage.unsealing import personal_data

EVERYTHING = 1_000_000


async def thread_history(
    store: EventStore, vault: AuthorKeyVault, site: str, thread: str
) -> list[HistoryLine]:
    return [await told(vault, e) for e in await store.thread_history(site, thread)]


async def thread_at(
    store: EventStore, vault: AuthorKeyVault, site: str, thread: str, moment: datetime
) -> ThreadView:
    """The thread exactly as a reader saw it at `moment` (same shape as the API's view)."""
    view = ThreadSlice()
    likes: dict[str, int] = {}
    position = None
    for envelope in await store.thread_history(site, thread):
        if envelope.occurred_at > moment:
            break
        view = apply(view, envelope, await personal_data(vault, envelope))
        event = envelope.event()
        if isinstance(event, CommentLiked | CommentUnliked):
            step = 1 if isinstance(event, CommentLiked) else -1
            likes[event.comment_id] = likes.get(event.comment_id, 0) + step
        position = envelope.position
    return build_thread_view(
        site=site,
        thread=thread,
        meta=view.meta,
        records=view.comments,
        like_counts=likes,
        viewer=None,
        sort="oldest",
        limit=EVERYTHING,
        cursor=None,
        position=position,
    )


async def search_log(
    redis: Store, partitions: int, needle: str, progress: Callable[[int], None]
) -> list[EventEnvelope]:
    """Every event whose stored JSON contains `needle`, in log order per partition."""
    found: list[EventEnvelope] = []
    for p in range(partitions):
        async for page in log_entries(redis, PartitionKeys(p)):
            for entry_id, fields in page:
                if needle in entry_json(fields):
                    found.append(decode_entry(fields, entry_id))
            progress(len(page))
    return found


async def comment_history(
    redis: Store,
    store: EventStore,
    vault: AuthorKeyVault,
    comment_id: str,
    progress: Callable[[int], None],
) -> list[HistoryLine]:
    """Every version of a comment's body, its likes and unlikes, its deletion."""
    needle = f'"comment_id":"{comment_id}"'
    matches = await search_log(redis, store.partitions, needle, progress)
    return [
        await told(vault, e)
        for e in sorted(matches, key=lambda e: e.occurred_at)
        if getattr(e.event(), "comment_id", None) == comment_id
    ]


async def actor_history(
    store: EventStore, vault: AuthorKeyVault, actor_id: str
) -> list[HistoryLine]:
    """Everything one identity did, across threads, oldest first (found by the index of their
    threads, not by a search of the log)."""
    return [await told(vault, e) for e in await actor_events(store, actor_id)]


def as_json(lines: list[HistoryLine] | ThreadView) -> Any:
    if isinstance(lines, ThreadView):
        return lines.model_dump(mode="json")
    return [line.model_dump(mode="json") for line in lines]
