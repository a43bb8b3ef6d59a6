"""Queries on the moderation read model: a site's queues (across every partition, oldest
first), their sizes, and the verdicts on authors."""

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from projections.moderation.model import (
    VERDICTS,
    BannedSubject,
    BanRecord,
    ModerationRecord,
    QueueName,
    Verdict,
    item_from_stored,
)
from storage.connection import Store
from storage.keys import ProjectionKeys

AuthorHistory = dict[Verdict, int]


@dataclass(frozen=True)
class QueuedItem:
    score: int  # when it entered the queue (ms)
    record: ModerationRecord


class ModerationReader:
    def __init__(self, redis: Store) -> None:
        self._redis = redis

    async def queue(
        self,
        partitions: Sequence[ProjectionKeys],
        site: str,
        queue: QueueName,
        limit: int,
        after: tuple[int, str] | None = None,
    ) -> list[QueuedItem]:
        """The oldest `limit` items of a queue after (score, ref) `after`."""
        low = f"({after[0]}" if after else "-inf"
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys in partitions:
                if after:  # items at the same millisecond as `after` are sorted by ref
                    pipe.zrangebyscore(keys.queue(site, queue), after[0], after[0], withscores=True)
                pipe.zrangebyscore(
                    keys.queue(site, queue), low, "+inf", start=0, num=limit, withscores=True
                )
            replies = await pipe.execute()
        candidates: list[tuple[int, str, int]] = []
        per = 2 if after else 1
        for index, _ in enumerate(partitions):
            for reply in replies[index * per : (index + 1) * per]:
                for ref, score in reply:
                    key = (int(score), ref)
                    if after is None or key > after:
                        candidates.append((int(score), ref, index))
        chosen = heapq.nsmallest(limit, set(candidates))
        async with self._redis.pipeline(transaction=False) as pipe:
            for _, ref, index in chosen:
                pipe.hget(partitions[index].queue_items(site), ref)
            records = await pipe.execute()
        return [
            QueuedItem(score, item_from_stored(ref, raw))
            for (score, ref, _), raw in zip(chosen, records, strict=True)
            if raw
        ]

    async def sizes(
        self, partitions: Sequence[ProjectionKeys], site: str, queues: Sequence[QueueName]
    ) -> dict[QueueName, int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for queue in queues:
                for keys in partitions:
                    pipe.zcard(keys.queue(site, queue))
            counts = await pipe.execute()
        per = len(partitions)
        return {q: sum(counts[i * per : (i + 1) * per]) for i, q in enumerate(queues)}

    async def history(
        self, partitions: Sequence[ProjectionKeys], site: str, author_ids: Sequence[str]
    ) -> dict[str, AuthorHistory]:
        """How many of each author's comments got each verdict, on the whole site."""
        fields = [f"{author}:{verdict}" for author in author_ids for verdict in VERDICTS]
        if not fields:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys in partitions:
                pipe.hmget(keys.author_history(site), fields)
            replies = await pipe.execute()
        totals = [sum(int(reply[i] or 0) for reply in replies) for i in range(len(fields))]
        history: dict[str, AuthorHistory] = {}
        for n, author in enumerate(author_ids):
            row = totals[n * len(VERDICTS) : (n + 1) * len(VERDICTS)]
            history[author] = dict(zip(VERDICTS, row, strict=True))
        return history

    async def bans(self, keys: ProjectionKeys, site: str) -> list[BanRecord]:
        """The site's bans in force (`keys`: the partition of its `~bans` thread), newest first."""
        raw = await self._redis.hvals(keys.bans(site))
        bans = [BanRecord.model_validate_json(value) for value in raw]
        return sorted(bans, key=lambda ban: ban.at, reverse=True)


def ban_in_force(raw: list[str | None], now: datetime) -> bool:
    """Whether any of the banned-subject entries read (HMGET of `banned`) is still in force."""
    return any(value and BannedSubject.model_validate_json(value).in_force(now) for value in raw)
