"""Queries on the thread_view read model (used by the gateway)."""

from collections.abc import Iterable

from projections.thread_view.model import CommentRecord, ThreadMeta, record_from_stored
from storage.connection import Store
from storage.keys import ProjectionKeys


class ThreadViewReader:
    def __init__(self, redis: Store) -> None:
        self._redis = redis

    async def load(
        self, keys: ProjectionKeys, site: str, thread: str
    ) -> tuple[ThreadMeta, dict[str, CommentRecord]]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.meta(site, thread))
            pipe.hgetall(keys.comments(site, thread))
            meta, comments = await pipe.execute()
        return (
            ThreadMeta.model_validate(meta) if meta else ThreadMeta(),
            {cid: record_from_stored(cid, raw) for cid, raw in comments.items()},
        )

    async def records(
        self, keys: ProjectionKeys, site: str, thread: str, comment_ids: list[str]
    ) -> dict[str, CommentRecord]:
        """Some comment records of a thread, whatever their status (for the moderators)."""
        found = await self._redis.hmget(keys.comments(site, thread), comment_ids)
        return {
            cid: record_from_stored(cid, raw)
            for cid, raw in zip(comment_ids, found, strict=True)
            if raw
        }

    async def public_comment(
        self, keys: ProjectionKeys, site: str, thread: str, comment_id: str
    ) -> tuple[str | None, int]:
        """One comment's public JSON fragment (None if unknown) and the thread's visible count."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(keys.public(site, thread), comment_id)
            pipe.hget(keys.meta(site, thread), "count")
            fragment, count = await pipe.execute()
        return fragment, int(count or 0)

    async def counts(
        self, site: str, threads: Iterable[tuple[str, ProjectionKeys]]
    ) -> dict[str, int]:
        """Visible comments per thread, for listing pages (one round trip)."""
        wanted = list(threads)
        async with self._redis.pipeline(transaction=False) as pipe:
            for thread, keys in wanted:
                pipe.hget(keys.counts, f"{site}/{thread}")
            found = await pipe.execute()
        return {thread: int(count or 0) for (thread, _), count in zip(wanted, found, strict=True)}
