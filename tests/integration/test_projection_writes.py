"""A read-model write of more values than Redis's Lua can unpack at once (about 8,000) is
committed whole: a replay page of 5,000 events can add thousands of comments to one thread, or
thousands of likers to one comment."""

from redis.asyncio import Redis

from storage.keys import PartitionKeys
from storage.read_model_writes import WriteBatch, commit
from storage.scripts import Scripts

MANY = 6_000  # pairs: 12,000 values in one HSET or ZADD


async def test_writes_of_many_values_are_committed_whole(redis: Redis, thread_id: str) -> None:
    keys = PartitionKeys(0).projection("writes_test", 1)
    records, likers = keys.comments("default", thread_id), keys.likers("default", thread_id, "c1")
    batch = WriteBatch()
    batch.add("HSET", records, *[part for n in range(MANY) for part in (f"c{n}", "{}")])
    batch.add("ZADD", likers, *[part for n in range(MANY) for part in (n, f"anon:{n}")])
    assert await commit(redis, Scripts(redis), keys, None, "1-1", batch, live=False) == 1
    assert await redis.hlen(records) == MANY and await redis.zcard(likers) == MANY

    batch = WriteBatch()
    batch.add("HDEL", records, *[f"c{n}" for n in range(MANY - 1)])
    batch.add("ZREM", likers, *[f"anon:{n}" for n in range(MANY - 1)])
    assert await commit(redis, Scripts(redis), keys, "1-1", "1-2", batch, live=False) == 1
    assert await redis.hkeys(records) == [f"c{MANY - 1}"]
    assert await redis.zrange(likers, 0, -1) == [f"anon:{MANY - 1}"]
    await redis.delete(records, likers, keys.checkpoint)
