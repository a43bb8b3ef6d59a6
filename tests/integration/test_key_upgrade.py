"""Keys of the old form (`cs:{3}:…`, before spread partition tags) get today's names, and a
service refuses a server that still holds them rather than start an empty log beside them."""

import pytest
from redis.asyncio import Redis

from storage.deployment import DeploymentGuard
from storage.key_upgrade import OldKeyNames, rename_old_keys
from storage.keys import PartitionKeys

# Keys of the old form were only ever written on one server (commentstream ran on a cluster only
# after they were gone); their renaming moves a key to another slot, which a cluster refuses.
pytestmark = pytest.mark.single_server


async def test_old_keys_are_renamed_and_a_service_refuses_them_until_then(redis: Redis) -> None:
    await redis.xadd("cs:{2}:commands", {"command": "{}"})
    await redis.xadd("cs:{2}:events", {"e": "{}", "h": "x"})
    await redis.hset("cs:{2}:thread_view:0:default/t:meta", "count", "1")
    await redis.set("cs:deployment", "d1")  # not a partition's key: left alone
    with pytest.raises(OldKeyNames, match="rename-keys"):
        await DeploymentGuard(redis, None, 4).establish()

    assert await rename_old_keys(redis) == 3
    keys = PartitionKeys(2)
    assert await redis.xlen(keys.events) == 1 and await redis.xlen(keys.commands) == 1
    assert await redis.hget(keys.projection("thread_view", 0).meta("default", "t"), "count") == "1"
    assert not [key async for key in redis.scan_iter("cs:{2}:*")]
    assert await redis.get("cs:deployment") == "d1"
    assert await DeploymentGuard(redis, None, 4).establish() == "d1"
    assert await rename_old_keys(redis) == 0  # once is enough


async def test_a_rename_onto_a_taken_name_renames_nothing(redis: Redis) -> None:
    await redis.set("cs:{1}:probe", "old")
    await redis.set("cs:{2}:probe", "old")
    await redis.set(f"{PartitionKeys(2).tag}:probe", "new")
    with pytest.raises(OldKeyNames, match="exists already"):
        await rename_old_keys(redis)
    assert await redis.get("cs:{1}:probe") == "old"
