"""Reads for the gateway: thread pages with like counts, waiting for a position if asked."""

import asyncio

from redis.asyncio import Redis

from projections.like_counts.projector import LikeCountsProjection
from projections.like_counts.reading import LikeCountsReader
from projections.stream_ids import is_after, parse_stream_id
from projections.thread_view.projector import ThreadViewProjection
from projections.thread_view.query import SortOrder, ThreadView, build_thread_view
from projections.thread_view.reading import ThreadViewReader
from projections.thread_view.rendering import avatar_seed
from services.gateway.schemas import Liker, LikersPage
from services.storage.keys import PartitionKeys

PROJECTIONS = (ThreadViewProjection.name, LikeCountsProjection.name)
POLL_SECONDS = 0.01


class ReadModels:
    def __init__(self, redis: Redis, read_wait_seconds: float) -> None:
        self.redis = redis
        self.threads = ThreadViewReader(redis)
        self.likes = LikeCountsReader(redis)
        self._wait = read_wait_seconds

    async def position(self, keys: PartitionKeys) -> str | None:
        """How far every projection of this partition has read: the smallest checkpoint."""
        checkpoints = await self.redis.mget([keys.checkpoint(name) for name in PROJECTIONS])
        if any(checkpoint is None for checkpoint in checkpoints):
            return None
        return min(checkpoints, key=parse_stream_id)

    async def wait_for(self, keys: PartitionKeys, min_position: str) -> str | None:
        """Wait briefly until the projections reach `min_position`; returns the position."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        while True:
            position = await self.position(keys)
            if position is not None and not is_after(min_position, position):
                return position
            if loop.time() >= deadline:
                return position
            await asyncio.sleep(POLL_SECONDS)

    async def thread_page(
        self,
        keys: PartitionKeys,
        site: str,
        thread: str,
        *,
        sort: SortOrder,
        limit: int,
        cursor: str | None,
        viewer: str | None,
        position: str | None,
    ) -> ThreadView:
        meta, records = await self.threads.load(keys, site, thread)
        counts = await self.likes.counts(keys, site, thread)
        liked = (
            await self.likes.liked_by(keys, site, thread, list(records), viewer)
            if viewer
            else set()
        )
        return build_thread_view(
            site=site,
            thread=thread,
            meta=meta,
            records=records,
            like_counts=counts,
            liked_by_me=liked,
            sort=sort,
            limit=limit,
            cursor=cursor,
            position=position,
        )

    async def likers_page(
        self, keys: PartitionKeys, site: str, thread: str, comment_id: str, offset: int, limit: int
    ) -> LikersPage | None:
        """Who likes a comment, paged; None when the comment does not exist."""
        _meta, records = await self.threads.load(keys, site, thread)
        if comment_id not in records:
            return None
        count, likes = await self.likes.likers(keys, site, thread, comment_id, offset, limit)
        names = {r.author_id: r.name for r in records.values() if r.status == "visible"}
        next_offset = offset + len(likes)
        return LikersPage(
            count=count,
            likers=[
                Liker(
                    name=names.get(like.actor_id),
                    avatar=avatar_seed(like.actor_id),
                    liked_at=like.liked_at,
                )
                for like in likes
            ],
            next_cursor=str(next_offset) if next_offset < count else None,
        )
