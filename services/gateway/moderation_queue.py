"""A page of a site's moderation queue for the moderators: the queue's records (moderation read
model) with each comment's content (thread view) and its author's verdicts so far."""

import re
from collections import defaultdict

from projections.moderation.model import QUEUES, QueueName
from projections.moderation.reading import AuthorHistory, QueuedItem
from projections.thread_view.model import CommentRecord
from projections.thread_view.rendering import render
from services.gateway.read_models import ActiveModels, ReadModels
from services.gateway.schemas import QueueAuthor, QueuedComment, QueuePage
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys, partition_of
from storage.unsealing import sources_at

CURSOR = re.compile(r"^(\d{1,15})\.([A-Za-z0-9._~:-]{1,128}/[a-z0-9]{1,32})$")


class InvalidQueueCursor(ValueError):
    pass


def decode_queue_cursor(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    found = CURSOR.match(cursor)
    if found is None:
        raise InvalidQueueCursor("not a cursor of this queue")
    return int(found.group(1)), found.group(2)


async def queue_page(
    reads: ReadModels,
    vault: AuthorKeyVault,
    partitions: int,
    site: str,
    queue: QueueName,
    limit: int,
    cursor: str | None,
) -> QueuePage:
    every = [PartitionKeys(p) for p in range(partitions)]
    active = [await reads.active(keys) for keys in every]
    models = [a.moderation for a in active]
    items = await reads.moderation.queue(
        models, site, queue, limit + 1, decode_queue_cursor(cursor)
    )
    more = len(items) > limit
    items = items[:limit]
    sizes = await reads.moderation.sizes(models, site, QUEUES)
    authors = sorted({item.record.author_id for item in items})
    history = await reads.moderation.history(models, site, authors)
    contents, sources = await _contents(
        reads, vault, active_of=active, partitions=partitions, site=site, items=items
    )
    shown = [
        _queued(
            item,
            contents.get(ref := _ref(item.record.thread, item.record.comment_id)),
            sources.get(ref),
            history,
        )
        for item in items
    ]
    last = items[-1] if more and items else None
    return QueuePage(
        site=site,
        queue=queue,
        sizes={str(name): size for name, size in sizes.items()},
        items=shown,
        next_cursor=f"{last.score}.{last.record.ref}" if last else None,
    )


def _ref(thread: str, comment_id: str) -> str:
    return f"{thread} {comment_id}"


async def _contents(
    reads: ReadModels,
    vault: AuthorKeyVault,
    *,
    active_of: list[ActiveModels],
    partitions: int,
    site: str,
    items: list[QueuedItem],
) -> tuple[dict[str, CommentRecord], dict[str, str]]:
    """The queued comments' records (thread view) and their sources (unsealed from the log,
    which the records keep no copy of), keyed by `_ref`."""
    by_thread: dict[str, list[str]] = defaultdict(list)
    for item in items:
        by_thread[item.record.thread].append(item.record.comment_id)
    found: dict[str, CommentRecord] = {}
    positions: dict[int, dict[str, str]] = defaultdict(dict)
    for thread, ids in by_thread.items():
        p = partition_of(site, thread, partitions)
        records = await reads.threads.records(active_of[p].thread_view, site, thread, ids)
        for cid, record in records.items():
            found[_ref(thread, cid)] = record
            if record.source_at:
                positions[p][_ref(thread, cid)] = record.source_at
    sources: dict[str, str] = {}
    for p, wanted in positions.items():
        sources |= await sources_at(reads.redis, vault, PartitionKeys(p), wanted)
    return found, sources


def _queued(
    item: QueuedItem,
    content: CommentRecord | None,
    source: str | None,
    history: dict[str, AuthorHistory],
) -> QueuedComment:
    record = item.record
    return QueuedComment(
        thread=record.thread,
        id=record.comment_id,
        parent_id=record.parent_id,
        status=record.status,
        held_for=list(record.held_for),
        spam_score=record.spam_score,
        reports=record.reports,
        report_reasons=list(record.report_reasons),
        created_at=record.created_at,
        queued_at=record.queued_at or record.created_at,
        author=QueueAuthor(
            id=record.author_id,
            name=content.name if content else None,
            website=content.website if content else None,
            history={str(k): v for k, v in history.get(record.author_id, {}).items()},
        ),
        html=render(source, content.markup) if content and source else "",
        source=source or "",
    )
