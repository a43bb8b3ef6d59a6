"""A generation folded in worker processes equals the one the live projectors built."""

import pytest
from redis.asyncio import Redis

from projections.registry import PROJECTIONS
from services.operations.parallel_build import Workers
from services.operations.replay import build_generation
from services.operations.verify import _diff
from services.settings import Settings
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys, partition_of
from tests.integration.world import World

BUILT = 7


@pytest.fixture
def world(redis: Redis, settings: Settings) -> World:
    return World(redis, settings)


async def test_workers_build_the_same_read_models_as_the_live_projectors(
    world: World, redis: Redis, settings: Settings, thread_id: str
) -> None:
    threads = [f"{thread_id}-{n}" for n in range(6)]
    assert len({partition_of("default", t, settings.partitions) for t in threads}) > 1
    for thread in threads:
        await world.discussion(thread)
    await world.project()
    folded: list[int] = []

    for name, make in PROJECTIONS.items():
        projection = make(redis, AuthorKeyVault(redis, settings.secret))
        await build_generation(
            redis,
            projection,
            BUILT,
            settings.partitions,
            folded.append,
            workers=Workers(settings.model_copy(update={"replay_workers": 2}), min_events=0),
        )
        for p in range(settings.partitions):
            keys = PartitionKeys(p)
            live, built = keys.projection(name, 0), keys.projection(name, BUILT)
            assert await redis.get(built.checkpoint) == await redis.get(live.checkpoint)
            assert await _diff(redis, name, live.prefix, built.prefix) == []
    # every entry was counted once per projection, by the workers
    log = sum([await redis.xlen(PartitionKeys(p).events) for p in range(settings.partitions)])
    assert sum(folded) == len(PROJECTIONS) * log
