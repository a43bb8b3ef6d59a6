"""Queries on the like_counts read model."""

from datetime import UTC, datetime
from typing import NamedTuple

from storage.connection import Store
from storage.keys import ProjectionKeys


class Like(NamedTuple):
    actor_id: str
    liked_at: datetime


class LikeCountsReader:
    def __init__(self, redis: Store) -> None:
        self._redis = redis

    async def counts(self, keys: ProjectionKeys, site: str, thread: str) -> dict[str, int]:
        raw = await self._redis.hgetall(keys.like_counts(site, thread))
        return {comment_id: int(count) for comment_id, count in raw.items()}

    async def count(self, keys: ProjectionKeys, site: str, thread: str, comment_id: str) -> int:
        return int(await self._redis.hget(keys.like_counts(site, thread), comment_id) or 0)

    async def liked_by(
        self, keys: ProjectionKeys, site: str, thread: str, comment_ids: list[str], actor_id: str
    ) -> set[str]:
        """The comments among `comment_ids` that `actor_id` likes."""
        if not comment_ids:
            return set()
        async with self._redis.pipeline(transaction=False) as pipe:
            for comment_id in comment_ids:
                pipe.zscore(keys.likers(site, thread, comment_id), actor_id)
            scores = await pipe.execute()
        return {cid for cid, score in zip(comment_ids, scores, strict=True) if score is not None}

    async def likers(
        self, keys: ProjectionKeys, site: str, thread: str, comment_id: str, offset: int, limit: int
    ) -> tuple[int, list[Like]]:
        """How many like a comment, and a page of who, oldest like first."""
        key = keys.likers(site, thread, comment_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zcard(key)
            pipe.zrange(key, offset, offset + limit - 1, withscores=True)
            count, rows = await pipe.execute()
        return count, [
            Like(actor, datetime.fromtimestamp(score / 1000, UTC)) for actor, score in rows
        ]
