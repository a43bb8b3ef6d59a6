"""Rebuild a projection's read model from the start of the log into a new generation, switch
readers to it atomically (partition by partition, each only once the new generation has read at
least as far as the old), then drop the old generation after a grace period."""

import asyncio
import logging
from collections.abc import Callable

from redis.asyncio import Redis

from projections.projector import Projection, ProjectorRunner
from services.audit.log_reader import log_entries
from services.storage.keys import PartitionKeys
from services.storage.scripts import Scripts

logger = logging.getLogger("commentstream.replay")
DROP_GRACE_SECONDS = 2.0
Progress = Callable[[int], None]


async def active_generation(redis: Redis, name: str, partitions: int) -> dict[int, int]:
    values = await redis.mget([PartitionKeys(p).active_generation(name) for p in range(partitions)])
    return {p: int(value or 0) for p, value in enumerate(values)}


async def build_generation(
    redis: Redis,
    projection: Projection,
    generation: int,
    partitions: int,
    progress: Progress,
    until: dict[int, str | None] | None = None,
) -> ProjectorRunner:
    """Fold the log into `generation` from its checkpoint on (up to `until` per partition)."""
    runner = ProjectorRunner(redis, projection, generation)
    for p in range(partitions):
        keys = PartitionKeys(p)
        if until is not None and until.get(p) is None:
            continue
        after = await runner.load_checkpoint(keys)
        async for page in log_entries(redis, keys, after, until[p] if until else None):
            await runner.process(keys, page)
            progress(len(page))
    return runner


async def drop_generation(redis: Redis, name: str, generation: int, partitions: int) -> int:
    """Delete every key of one generation of a projection; returns how many."""
    dropped = 0
    for p in range(partitions):
        prefix = PartitionKeys(p).projection(name, generation).prefix
        batch: list[str] = []
        async for key in redis.scan_iter(match=prefix + ":*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                dropped += await redis.unlink(*batch)
                batch = []
        if batch:
            dropped += await redis.unlink(*batch)
    return dropped


async def replay(
    redis: Redis, projection: Projection, partitions: int, progress: Progress
) -> tuple[int, int]:
    """Rebuild `projection` into a new generation and switch to it; returns (old, new)."""
    name = projection.name
    active = await active_generation(redis, name, partitions)
    old = max(active.values())
    new = old + 1
    await drop_generation(redis, name, new, partitions)  # leftovers of an interrupted replay
    scripts = Scripts(redis)
    pending = set(range(partitions))
    while pending:
        await build_generation(redis, projection, new, partitions, progress)
        for p in sorted(pending):
            keys = PartitionKeys(p)
            switched = await scripts.switch_generation(
                keys=[
                    keys.active_generation(name),
                    keys.projection(name, active[p]).checkpoint,
                    keys.projection(name, new).checkpoint,
                ],
                args=[str(active[p]), str(new)],
            )
            if switched == -1:
                raise RuntimeError(f"partition {p}: another replay switched {name} meanwhile")
            if switched == 1:
                pending.discard(p)
    await asyncio.sleep(DROP_GRACE_SECONDS)  # readers that looked up the old one finish
    for generation in sorted(set(active.values())):
        await drop_generation(redis, name, generation, partitions)
    logger.info("%s: generation %d replaced %d", name, new, old)
    return old, new
