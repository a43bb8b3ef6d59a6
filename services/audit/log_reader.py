"""Read the log fast: XRANGE in large pages, partition by partition."""

from collections.abc import AsyncIterator

from redis.asyncio import Redis

from services.storage.keys import PartitionKeys

PAGE = 5000


async def log_entries(
    redis: Redis, keys: PartitionKeys, after: str | None = None, until: str | None = None
) -> AsyncIterator[list[tuple[str, dict[str, str]]]]:
    """Pages of (entry id, fields) of one partition's log, after `after` up to `until`."""
    start = f"({after}" if after else "-"
    while True:
        page = await redis.xrange(keys.events, min=start, max=until or "+", count=PAGE)
        if not page:
            return
        yield page
        if len(page) < PAGE:
            return
        start = f"({page[-1][0]}"


async def log_length(redis: Redis, partitions: int) -> int:
    async with redis.pipeline(transaction=False) as pipe:
        for p in range(partitions):
            pipe.xlen(PartitionKeys(p).events)
        return sum(await pipe.execute())
