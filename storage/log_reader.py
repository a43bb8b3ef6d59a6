"""Read the log fast: XRANGE in large pages, partition by partition."""

import weakref
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from storage.connection import Store, another_cluster_client, is_cluster
from storage.keys import PartitionKeys

PAGE = 5000

LogEntry = tuple[str, dict[str, str]]
"""An entry id and the entry's fields (events/log_entry.py reads them)."""


def _as_sent(response: Any, **_: Any) -> Any:
    return response


def entry_fields(flat: list[str]) -> dict[str, str]:
    """An entry's fields from the flat [name, value, …] list Redis sends."""
    return dict(zip(flat[::2], flat[1::2], strict=False))


_RAW_CLIENTS: "weakref.WeakKeyDictionary[Any, Store]" = weakref.WeakKeyDictionary()
_AS_SENT = ("XRANGE", "XREAD", "XREADGROUP")


def raw_client(redis: Store) -> Store:
    """A client that answers XRANGE, XREAD and XREADGROUP as sent: on one server it shares
    `redis`'s connection pool, on a cluster it has connections of its own (made once per
    client: a client is not cheap to make, and the signer reads the log every second)."""
    owner = redis if is_cluster(redis) else redis.connection_pool
    raw = _RAW_CLIENTS.get(owner)
    if raw is None:
        raw = another_cluster_client(redis) if is_cluster(redis) else Redis(connection_pool=owner)
        for command in _AS_SENT:  # (a cluster's nodes share its callbacks)
            raw.set_response_callback(command, _as_sent)
        _RAW_CLIENTS[owner] = raw
    return raw


async def close_client(redis: Store) -> None:
    """Close `redis`, and the raw client made on it (on a cluster it has connections of its
    own, which would otherwise stay open)."""
    owner = redis if is_cluster(redis) else redis.connection_pool
    raw = _RAW_CLIENTS.pop(owner, None)
    if raw is not None and is_cluster(raw):
        await raw.aclose()
    await redis.aclose()


async def log_entries(
    redis: Store, keys: PartitionKeys, after: str | None = None, until: str | None = None
) -> AsyncIterator[list[LogEntry]]:
    """Pages of (entry id, fields) of one partition's log, after `after` up to `until`.

    The pages come as Redis sent them, not through redis-py's reply parsing, which builds its
    dict per entry in a slower way (a large share of a read's cost)."""
    raw = raw_client(redis)
    start = f"({after}" if after else "-"
    while True:
        page = await raw.xrange(keys.events, min=start, max=until or "+", count=PAGE)
        if not page:
            return
        yield [(entry_id, entry_fields(fields)) for entry_id, fields in page]
        if len(page) < PAGE:
            return
        start = f"({page[-1][0]}"


async def log_length(redis: Store, partitions: int) -> int:
    async with redis.pipeline(transaction=False) as pipe:
        for p in range(partitions):
            pipe.xlen(PartitionKeys(p).events)
        return sum(await pipe.execute())
