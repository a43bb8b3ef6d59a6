"""Read the log fast: XRANGE in large pages, partition by partition."""

from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from storage.keys import PartitionKeys

PAGE = 5000
EVENT_FIELD = "event"


def _as_sent(response: Any, **_: Any) -> Any:
    return response


def _envelope(fields: list[str]) -> str:
    """An entry's stored envelope from its flat [name, value, …] fields; "" when it has none."""
    if len(fields) == 2 and fields[0] == EVENT_FIELD:
        return fields[1]
    values = dict(zip(fields[::2], fields[1::2], strict=False))
    return values.get(EVENT_FIELD, "")


async def log_entries(
    redis: Redis, keys: PartitionKeys, after: str | None = None, until: str | None = None
) -> AsyncIterator[list[tuple[str, str]]]:
    """Pages of (entry id, stored envelope) of one partition's log, after `after` up to `until`.

    The pages come as Redis sent them, not through redis-py's reply parsing, which builds a
    dict per entry (a large share of a read's cost), while every entry has the one field."""
    raw = Redis(connection_pool=redis.connection_pool)
    raw.set_response_callback("XRANGE", _as_sent)
    start = f"({after}" if after else "-"
    while True:
        page = await raw.xrange(keys.events, min=start, max=until or "+", count=PAGE)
        if not page:
            return
        yield [(entry_id, _envelope(fields)) for entry_id, fields in page]
        if len(page) < PAGE:
            return
        start = f"({page[-1][0]}"


async def log_length(redis: Redis, partitions: int) -> int:
    async with redis.pipeline(transaction=False) as pipe:
        for p in range(partitions):
            pipe.xlen(PartitionKeys(p).events)
        return sum(await pipe.execute())
