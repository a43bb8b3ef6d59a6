"""Rebuild a projection's read model from the start of the log into a new generation, switch
readers to it atomically (partition by partition, each only once the new generation has read at
least as far as the old), then drop the old generation after a grace period."""

import asyncio
import logging

from projections.projection import Projection
from services.operations.parallel_build import Progress, Workers, build_in_workers
from services.projector.runner import ProjectorRunner
from storage.connection import Store
from storage.keys import PartitionKeys
from storage.log_reader import log_length
from storage.many_keys import get_each
from storage.scripts import Scripts

logger = logging.getLogger("commentstream.replay")
DROP_GRACE_SECONDS = 2.0


async def active_generation(redis: Store, name: str, partitions: int) -> dict[int, int]:
    names = [PartitionKeys(p).active_generation(name) for p in range(partitions)]
    values = await get_each(redis, names)
    return {p: int(value or 0) for p, value in enumerate(values)}


async def build_generation(
    redis: Store,
    projection: Projection,
    generation: int,
    partitions: int,
    progress: Progress,
    until: dict[int, str | None] | None = None,
    workers: Workers | None = None,
) -> None:
    """Fold the log into `generation` from its checkpoint on (up to `until` per partition);
    with `workers`, partitions are folded in several processes when the log is big enough."""
    todo = {
        p: until[p] if until else None
        for p in range(partitions)
        if until is None or until.get(p) is not None
    }
    if (
        workers is not None
        and workers.processes > 1
        and len(todo) > 1
        and await log_length(redis, partitions) >= workers.min_events
    ):
        await build_in_workers(workers, projection.name, generation, todo, progress)
        return
    runner = ProjectorRunner(redis, projection, generation)
    for p, last in todo.items():
        await runner.fold_log(PartitionKeys(p), last, progress)


async def drop_generation(redis: Store, name: str, generation: int, partitions: int) -> int:
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
    redis: Store,
    projection: Projection,
    partitions: int,
    progress: Progress,
    workers: Workers | None = None,
) -> tuple[int, int]:
    """Rebuild `projection` into a new generation and switch to it; returns (old, new).

    The first pass may use `workers`; the passes that catch up with what was written
    meanwhile are short, and run here."""
    name = projection.name
    active = await active_generation(redis, name, partitions)
    old = max(active.values())
    new = old + 1
    await drop_generation(redis, name, new, partitions)  # leftovers of an interrupted replay
    scripts = Scripts(redis)
    pending = set(range(partitions))
    first_pass = workers
    while pending:
        await build_generation(redis, projection, new, partitions, progress, workers=first_pass)
        first_pass = None
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
