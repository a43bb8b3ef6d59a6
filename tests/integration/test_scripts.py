"""The Lua scripts themselves, on a real server: a commit is applied whole or not at all, and a
server at `maxmemory` refuses every script that writes before its first command, while the
read-only ones still run; a digest follows only the one before it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError, ResponseError

from events.digest import (
    GENESIS_LOG_HASH,
    Digest,
    PartitionMark,
    public_key_hex,
    sign,
    signature_holds,
)
from events.outcomes import Outcome
from storage.digests import all_digests, append_digest
from storage.event_store import EventStore
from storage.keys import PartitionKeys
from storage.read_model_writes import Write, WriteBatch, commit
from storage.scripts import Scripts


@asynccontextmanager
async def memory_full(redis: Redis) -> AsyncIterator[None]:
    """The test server below its own used memory, refusing writes (noeviction)."""
    used = (await redis.info("memory"))["used_memory"]
    await redis.config_set("maxmemory-policy", "noeviction")
    await redis.config_set("maxmemory", used // 2)
    try:
        yield
    finally:
        await redis.config_set("maxmemory", 0)


async def test_a_commit_with_a_refused_operation_writes_nothing(redis: Redis) -> None:
    keys = PartitionKeys(0).projection("scripts_test", 1)
    batch = WriteBatch()
    batch.add("HSET", keys.meta("default", "t"), "count", 1)
    batch.writes.append(Write("SET", keys.meta("default", "t"), ("x",)))  # not an allowed one
    with pytest.raises(ResponseError, match="operation not allowed: SET"):
        await commit(redis, Scripts(redis), keys, None, "1-1", batch, live=False)
    assert await redis.exists(keys.meta("default", "t"), keys.checkpoint) == 0


async def test_at_maxmemory_writing_scripts_are_refused_whole_and_reading_ones_run(
    redis: Redis,
) -> None:
    scripts = Scripts(redis)
    keys = PartitionKeys(0).projection("scripts_test", 1)
    batch = WriteBatch()
    batch.add("HSET", keys.meta("default", "t"), "count", 1)
    store = EventStore(redis, 1, 60)
    assert await store.takes_writes()
    async with memory_full(redis):
        assert not await store.takes_writes()
        with pytest.raises(OutOfMemoryError):
            await commit(redis, scripts, keys, None, "1-1", batch, live=False)
        with pytest.raises(OutOfMemoryError):
            await store.record_outcome(
                PartitionKeys(0), Outcome(command_id="c1", status="rejected", code="x")
            )
        page = await scripts.read_page(
            keys=[
                keys.roots("default", "t"),
                keys.replies("default", "t"),
                keys.public("default", "t"),
                keys.like_counts("default", "t"),
                keys.meta("default", "t"),
            ],
            args=["asc", "", 10],
        )
        assert page == [[], [], [], [], []]
    assert await redis.exists(keys.meta("default", "t"), keys.checkpoint) == 0
    assert await commit(redis, scripts, keys, None, "1-1", batch, live=False) == 1
    assert await store.takes_writes()


async def test_a_digest_is_appended_only_after_the_one_it_follows(redis: Redis) -> None:
    """Two signers cannot fork the chain of digests: the second append of a step is refused,
    and a digest that skips one is too."""
    key = Ed25519PrivateKey.generate()

    def digest(seq: int) -> Digest:
        return Digest(
            seq=seq,
            at=datetime(2026, 12, 3, tzinfo=UTC),
            previous=GENESIS_LOG_HASH,
            key=public_key_hex(key),
            partitions=(PartitionMark(),),
        )

    scripts = Scripts(redis)
    assert await append_digest(scripts, digest(1), sign(digest(1), key))
    assert not await append_digest(scripts, digest(1), sign(digest(1), key))
    assert not await append_digest(scripts, digest(3), sign(digest(3), key))
    assert await append_digest(scripts, digest(2), sign(digest(2), key))
    stored = await all_digests(redis)
    assert [d.digest.seq for d in stored] == [1, 2]
    assert all(signature_holds(d.digest, d.signature) for d in stored)
    assert not signature_holds(stored[0].digest, stored[1].signature)
