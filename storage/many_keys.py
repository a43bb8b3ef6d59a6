"""Reads of keys that lie in several partitions: never one multi-key command (a cluster refuses
keys of two slots in one), but one command per key in one pipeline, which a cluster client
sends as one batch per node."""

from storage.connection import Store


async def get_each(redis: Store, keys: list[str]) -> list[str | None]:
    """GET of each key, in order (MGET, when the keys may be in different slots)."""
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.get(key)
        return list(await pipe.execute())
