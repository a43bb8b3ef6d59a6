"""One page of a thread as JSON, from the pre-rendered fragments (see fragments.py).

A page costs one round trip for the top-level comments and everything they show, whatever the
size of the thread, plus one for the caller's likes and own comments when the caller is known.
Sorting by "top" reads every top-level comment's like count first, so it is O(top-level).
"""

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson

from projections.like_counts.reading import LikeCountsReader
from projections.thread_view.fragments import (
    assemble_comments,
    own_comments,
    page_ids,
    viewers_held,
)
from projections.thread_view.model import ThreadMeta
from projections.thread_view.query import (
    InvalidCursor,
    SortOrder,
    Viewer,
    decode_cursor,
    encode_cursor,
)
from storage.connection import Store
from storage.keys import ProjectionKeys
from storage.scripts import Scripts

SLACK = 8  # extra top-level comments fetched, for the ones hidden (deleted without replies)


@dataclass(frozen=True)
class Fetched:
    """What the page script returned: top-level ids, their descendant lists, and by comment id
    the public fragments and like counts."""

    roots: list[str]
    descendants: dict[str, str | None]
    fragments: dict[str, str | None]
    likes: dict[str, int]

    def merged(self, more: "Fetched") -> "Fetched":
        return Fetched(
            self.roots + more.roots,
            self.descendants | more.descendants,
            self.fragments | more.fragments,
            self.likes | more.likes,
        )


def _fetched(raw: list[list[Any]]) -> Fetched:
    roots, lists, fragments, likes = raw
    descendants = dict(zip(roots, lists, strict=True))
    ids = page_ids(roots, descendants)
    return Fetched(
        roots=roots,
        descendants=descendants,
        fragments=dict(zip(ids, fragments, strict=True)),
        likes={cid: int(n) for cid, n in zip(ids, likes, strict=True) if n},
    )


@dataclass(frozen=True)
class PageRequest:
    site: str
    thread: str
    sort: SortOrder
    limit: int
    cursor: str | None
    auto_close_days: int = 0  # the site's policy, for the page's `locked`


class ThreadPages:
    def __init__(self, redis: Store, scripts: Scripts) -> None:
        self._redis = redis
        self._scripts = scripts
        self._likes = LikeCountsReader(redis)

    async def page(
        self,
        request: PageRequest,
        thread_view: ProjectionKeys,
        like_counts: ProjectionKeys,
        viewer: Viewer | None,
        position: str | None,
    ) -> str:
        """The page as the JSON of a `ThreadView`."""
        site, thread = request.site, request.thread
        after = decode_page_cursor(request.cursor, request.sort)
        script_keys = [
            thread_view.roots(site, thread),
            thread_view.replies(site, thread),
            thread_view.public(site, thread),
            like_counts.like_counts(site, thread),
            thread_view.meta(site, thread),
        ]
        order: list[tuple[Any, ...]] | None = None
        if request.sort == "top":
            order = await self._top_order(script_keys[0], script_keys[3], after)
        direction = "asc" if request.sort == "oldest" else "desc"

        def script_args(last: str | None, skip: int, count: int) -> list[str | int]:
            if order is None:
                return [direction, last or "", count]
            ids = [key[-1] for key in order[skip : skip + count]]
            return ["ids", "", len(ids), *ids]

        batch = request.limit + 1 + SLACK
        last = str(after[-1]) if after is not None and order is None else None
        (flat_meta, *raw), held = await asyncio.gather(
            self._scripts.read_page(script_keys, script_args(last, 0, batch)),
            self._held(thread_view, site, thread, viewer),
        )
        meta = ThreadMeta.model_validate(dict(zip(flat_meta[::2], flat_meta[1::2], strict=True)))
        fetched = _fetched(raw)
        pinned = meta.pinned_ids()
        shown: dict[str, str] = {}
        on_top: Fetched | None = None
        if pinned and request.cursor is None:  # first, on the first page, in every sort
            (_, *raw) = await self._scripts.read_page(
                script_keys, ["ids", "", len(pinned), *pinned]
            )
            on_top = _fetched(raw)
            rendered = assemble_comments(
                on_top.roots, on_top.descendants, on_top.fragments, on_top.likes, held=held
            )
            shown = {root: c for root, c in zip(on_top.roots, rendered, strict=True) if c}
        pinned_shown = len(shown)
        more = False
        skip = 0
        while True:
            rendered = assemble_comments(
                fetched.roots[skip:],
                fetched.descendants,
                fetched.fragments,
                fetched.likes,
                held=held,
                left_out=frozenset(pinned),
            )
            for root, comment in zip(fetched.roots[skip:], rendered, strict=True):
                if comment is None:
                    continue
                if len(shown) - pinned_shown == request.limit:
                    more = True
                    break
                shown[root] = comment
            if more or len(fetched.roots) - skip < batch:
                break
            skip = len(fetched.roots)
            _, *raw = await self._scripts.read_page(
                script_keys, script_args(fetched.roots[-1], skip, batch)
            )
            fetched = fetched.merged(_fetched(raw))
        if on_top is not None:
            fetched = on_top.merged(fetched)
        if viewer is not None and shown:
            shown = await self._for_viewer(
                list(shown), fetched, thread_view, like_counts, site, thread, viewer, held
            )
        next_cursor = None
        if more and shown:
            last_root = list(shown)[-1]
            key = (last_root,) if order is None else next(k for k in order if k[-1] == last_root)
            next_cursor = encode_cursor(request.sort, key)
        head = orjson.dumps(
            {
                "site": site,
                "thread": thread,
                "title": meta.title,
                "url": meta.url,
                "count": meta.count,
                "locked": meta.closed(request.auto_close_days),
                "position": position,
            }
        ).decode()
        return (
            f'{head[:-1]},"comments":[{",".join(shown.values())}],'
            f'"next_cursor":{orjson.dumps(next_cursor).decode()}}}'
        )

    async def _for_viewer(
        self,
        roots: list[str],
        fetched: Fetched,
        thread_view: ProjectionKeys,
        like_counts: ProjectionKeys,
        site: str,
        thread: str,
        viewer: Viewer,
        held: dict[str, str],
    ) -> dict[str, str]:
        """The shown comments again, with the caller's likes and own comments marked."""
        ids = page_ids(roots, fetched.descendants)
        liked, records = await asyncio.gather(
            self._likes.liked_by(like_counts, site, thread, ids, viewer.actor_id),
            self._redis.hmget(thread_view.comments(site, thread), ids),
        )
        mine = own_comments(dict(zip(ids, records, strict=True)), viewer)
        rendered = assemble_comments(
            roots,
            fetched.descendants,
            fetched.fragments,
            fetched.likes,
            frozenset(liked),
            mine,
            held,
        )
        return {root: comment for root, comment in zip(roots, rendered, strict=True) if comment}

    async def _held(
        self, thread_view: ProjectionKeys, site: str, thread: str, viewer: Viewer | None
    ) -> dict[str, str]:
        """The fragments of the viewer's own comments held for moderation."""
        if viewer is None:
            return {}
        return viewers_held(await self._redis.hgetall(thread_view.held(site, thread)), viewer)

    async def _top_order(
        self, roots_key: str, likes_key: str, after: tuple[Any, ...] | None
    ) -> list[tuple[Any, ...]]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrange(roots_key, 0, -1, withscores=True)
            pipe.hgetall(likes_key)
            roots, likes = await pipe.execute()
        keys = sorted((-int(likes.get(root, 0)), int(score), root) for root, score in roots)
        return [key for key in keys if after is None or key > after]


def decode_page_cursor(cursor: str | None, sort: SortOrder) -> tuple[Any, ...] | None:
    """A cursor of this server, whose key is the last top-level comment's id, or for "top"
    its (likes, time, id)."""
    key = decode_cursor(cursor, sort)
    if key is not None and (not key or (sort == "top" and len(key) != 3)):
        raise InvalidCursor("cursor belongs to another sort order")
    return key
