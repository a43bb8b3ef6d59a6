"""Queries on the like_counts read model."""

from datetime import UTC, datetime

from pydantic import BaseModel
from redis.asyncio import Redis

from services.storage.keys import PartitionKeys


class Liker(BaseModel):
    id: str
    liked_at: datetime


class LikersPage(BaseModel):
    count: int
    likers: list[Liker]
    next_cursor: str | None


class LikeCountsReader:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def counts(self, keys: PartitionKeys, site: str, thread: str) -> dict[str, int]:
        raw = await self._redis.hgetall(keys.like_counts(site, thread))
        return {comment_id: int(count) for comment_id, count in raw.items()}

    async def liked_by(
        self, keys: PartitionKeys, site: str, thread: str, comment_ids: list[str], actor_id: str
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
        self, keys: PartitionKeys, site: str, thread: str, comment_id: str, offset: int, limit: int
    ) -> LikersPage:
        key = keys.likers(site, thread, comment_id)
        count = await self._redis.zcard(key)
        rows = await self._redis.zrange(key, offset, offset + limit - 1, withscores=True)
        next_offset = offset + len(rows)
        return LikersPage(
            count=count,
            likers=[
                Liker(id=actor, liked_at=datetime.fromtimestamp(score / 1000, UTC))
                for actor, score in rows
            ],
            next_cursor=str(next_offset) if next_offset < count else None,
        )
