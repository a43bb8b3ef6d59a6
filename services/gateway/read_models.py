"""Reads for the gateway: thread pages with like counts, waiting for a position if asked."""

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson

from events.actors import Actor
from projections.like_counts.reading import LikeCountsReader
from projections.moderation.reading import ModerationReader
from projections.names import LIKE_COUNTS, MODERATION, THREAD_VIEW
from projections.thread_view.fragments import standalone_comment
from projections.thread_view.pages import PageRequest, ThreadPages
from projections.thread_view.query import Viewer
from projections.thread_view.reading import ThreadViewReader
from projections.thread_view.rendering import avatar_seed
from services.gateway.page_cache import PageCache
from services.gateway.schemas import Liker, LikersPage
from storage.connection import Store
from storage.keys import PartitionKeys, ProjectionKeys, partition_of
from storage.scripts import Scripts
from storage.stream_entries import is_after, parse_stream_id

POLL_SECONDS = 0.01
ACTIVE_CACHE_SECONDS = 0.5
CHECKPOINTS_SHARED_SECONDS = 0.002


def _smallest(checkpoints: tuple[str | None, str | None]) -> str | None:
    if any(checkpoint is None for checkpoint in checkpoints):
        return None
    return min(checkpoints, key=parse_stream_id)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ActiveModels:
    thread_view: ProjectionKeys
    like_counts: ProjectionKeys
    moderation: ProjectionKeys


class ReadModels:
    def __init__(self, redis: Store, read_wait_seconds: float, edit_window: timedelta) -> None:
        self.redis = redis
        self.threads = ThreadViewReader(redis)
        self.pages = ThreadPages(redis, Scripts(redis))
        self.page_cache = PageCache()
        self.likes = LikeCountsReader(redis)
        self.moderation = ModerationReader(redis)
        self._wait = read_wait_seconds
        self._active: dict[int, tuple[float, ActiveModels]] = {}
        self._shared_checkpoints: dict[
            ActiveModels, tuple[float, asyncio.Future[tuple[str | None, str | None]]]
        ] = {}
        self._edit_window = edit_window

    async def active(self, keys: PartitionKeys) -> ActiveModels:
        """The generations readers use in this partition (a replay may switch them).

        Remembered for ACTIVE_CACHE_SECONDS: a replaced generation is kept for a grace period
        longer than that (services/operations/replay.py), so a reader never finds it gone."""
        now = time.monotonic()
        cached = self._active.get(keys.p)
        if cached is not None and now - cached[0] < ACTIVE_CACHE_SECONDS:
            return cached[1]
        names = (THREAD_VIEW, LIKE_COUNTS, MODERATION)
        thread_view, like_counts, moderation = await self.redis.mget(
            [keys.active_generation(name) for name in names]
        )
        models = ActiveModels(
            keys.projection(names[0], int(thread_view or 0)),
            keys.projection(names[1], int(like_counts or 0)),
            keys.projection(names[2], int(moderation or 0)),
        )
        self._active[keys.p] = (now, models)
        return models

    async def position(self, keys: PartitionKeys) -> str | None:
        """How far every projection of this partition has read: the smallest checkpoint."""
        return _smallest(await self._checkpoints(await self.active(keys)))

    async def _checkpoints(
        self, models: ActiveModels, *, shared: bool = False
    ) -> tuple[str | None, str | None]:
        """Both projections' checkpoints. `shared`: a reading at most CHECKPOINTS_SHARED_SECONDS
        old will do, so that under load one round trip serves the reads of that moment (a page
        is then at least as new as the position it reports; `min_position` never shares)."""
        if shared:
            reading = self._shared_checkpoints.get(models)
            if reading is not None and time.monotonic() - reading[0] < CHECKPOINTS_SHARED_SECONDS:
                return await reading[1]
            started = time.monotonic()
            future = asyncio.ensure_future(self._checkpoints(models))
            self._shared_checkpoints[models] = (started, future)
            return await future
        thread_view, like_counts = await self.redis.mget(
            [models.thread_view.checkpoint, models.like_counts.checkpoint]
        )
        return thread_view, like_counts

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
        request: PageRequest,
        *,
        viewer: Actor | None,
        min_position: str | None,
    ) -> bytes:
        """A page of the thread as JSON, once the projections have read `min_position` if given."""
        if min_position:
            await self.wait_for(keys, min_position)
        models = await self.active(keys)
        checkpoints = await self._checkpoints(models, shared=not min_position)
        position = _smallest(checkpoints)
        if viewer is not None:
            reader = Viewer(
                actor_id=viewer.id,
                anonymous=viewer.kind == "anonymous",
                edit_window=self._edit_window,
                moderator=viewer.moderator,
            )
            page = await self.pages.page(
                request, models.thread_view, models.like_counts, reader, position
            )
            return page.encode()
        built_at = (models, checkpoints)
        cached = self.page_cache.get(request, built_at)
        if cached is not None:
            return cached
        fresh = await self.pages.page(
            request, models.thread_view, models.like_counts, None, position
        )
        self.page_cache.put(request, built_at, fresh.encode())
        return fresh.encode()

    async def likers_page(
        self, keys: PartitionKeys, site: str, thread: str, comment_id: str, offset: int, limit: int
    ) -> LikersPage | None:
        """Who likes a comment, paged; None when the comment does not exist."""
        models = await self.active(keys)
        _meta, records = await self.threads.load(models.thread_view, site, thread)
        if comment_id not in records:
            return None
        count, likes = await self.likes.likers(
            models.like_counts, site, thread, comment_id, offset, limit
        )
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

    async def comment_update(
        self, keys: PartitionKeys, site: str, thread: str, comment_id: str
    ) -> tuple[dict[str, Any] | None, int]:
        """One comment as anyone sees it (JSON, replies left out), and the thread's visible
        count, for live updates."""
        models = await self.active(keys)
        fragment, count = await self.threads.public_comment(
            models.thread_view, site, thread, comment_id
        )
        if fragment is None:
            return None, count
        likes = await self.likes.count(models.like_counts, site, thread, comment_id)
        return orjson.loads(standalone_comment(fragment, likes)), count

    async def like_count(self, keys: PartitionKeys, site: str, thread: str, comment_id: str) -> int:
        models = await self.active(keys)
        return await self.likes.count(models.like_counts, site, thread, comment_id)

    async def counts(self, site: str, threads: list[str], partitions: int) -> dict[str, int]:
        """Visible comments per thread, for listing pages (one round trip, as a rule)."""
        placed = [(t, PartitionKeys(partition_of(site, t, partitions))) for t in threads]
        active = {keys.p: await self.active(keys) for _, keys in placed}
        return await self.threads.counts(
            site, [(t, active[keys.p].thread_view) for t, keys in placed]
        )
