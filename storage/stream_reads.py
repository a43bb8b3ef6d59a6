"""Blocking reads of several partitions' streams at once (XREAD, or XREADGROUP for a consumer
of a group), whichever the store's topology.

On one server: one command names every stream. On a cluster, where a command may only name
keys of one slot (and each partition is one slot): one read per stream, all in flight at once,
answered as soon as any has entries; the others stay in flight for the next call, so a quiet
partition costs no extra round trip and a busy one waits for no other.
"""

import asyncio
import contextlib
import logging
from typing import Any

from storage.connection import Store, is_cluster
from storage.log_reader import LogEntry, entry_fields, raw_client

logger = logging.getLogger("commentstream.store")

StreamEntries = tuple[str, list[LogEntry]]
"""A stream's name and its new entries (id, fields), in log order."""


class StreamReads:
    """`read(cursors)`: the new entries of those streams after each cursor (">" for a group's
    new entries), waiting up to `block_ms` for any; [] when nothing came."""

    def __init__(
        self,
        redis: Store,
        count: int,
        block_ms: int,
        group: tuple[str, str] | None = None,
    ) -> None:
        self._raw = raw_client(redis)  # replies as Redis sent them: redis-py parses slowly
        self._cluster = is_cluster(redis)
        self._count = count
        self._block_ms = block_ms
        self._group = group  # (group, consumer)
        self._in_flight: dict[str, asyncio.Task[Any]] = {}
        self._stale: set[str] = set()

    async def read(self, cursors: dict[str, str]) -> list[StreamEntries]:
        if not self._cluster:
            return _as_entries(await self._command(cursors))
        for stream, cursor in cursors.items():
            if stream not in self._in_flight:
                self._in_flight[stream] = asyncio.create_task(self._command({stream: cursor}))
        await asyncio.wait(self._in_flight.values(), return_when=asyncio.FIRST_COMPLETED)
        found: list[StreamEntries] = []
        failure: BaseException | None = None
        for stream, task in list(self._in_flight.items()):
            if not task.done():
                continue
            del self._in_flight[stream]
            if stream in self._stale:  # read from a cursor given up since
                self._stale.discard(stream)
                with contextlib.suppress(Exception):
                    task.result()
                continue
            try:
                found.extend(_as_entries(task.result()))
            except Exception as error:  # tried again on the next call
                failure = error
        if failure is not None and not found:
            raise failure
        return found

    def moved(self, stream: str) -> None:
        """`stream`'s cursor moved: what a read in flight from the old one brings is dropped."""
        if stream in self._in_flight:
            self._stale.add(stream)

    async def aclose(self) -> None:
        for task in self._in_flight.values():
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        self._in_flight.clear()

    async def _command(self, cursors: dict[str, str]) -> Any:
        if self._group is None:
            return await self._raw.xread(cursors, count=self._count, block=self._block_ms)
        group, consumer = self._group
        return await self._raw.xreadgroup(
            group, consumer, cursors, count=self._count, block=self._block_ms
        )


def _as_entries(replies: Any) -> list[StreamEntries]:
    """An XREAD or XREADGROUP reply, as sent, as (stream, entries) of each stream with any."""
    if isinstance(replies, dict):  # RESP3 answers a map of stream -> entries
        replies = replies.items()
    found = []
    for stream, entries in replies or []:
        name = stream if isinstance(stream, str) else stream.decode()
        batch = [(entry_id, entry_fields(fields or [])) for entry_id, fields in entries]
        if batch:
            found.append((name, batch))
    return found
