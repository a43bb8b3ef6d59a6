"""The typed client of other services (services/client), against a real processor process, on
one server and on the cluster: commands with their outcomes, typed rejections, the timeout
that says queued; subscriptions from the position asked for, at least once, resumed, shared,
a dead consumer's events claimed, poison parked, gone consumers removed."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from events.commands import LikeComment
from events.thread_events import CommentPosted
from services.client import Checkpoint, Client, CommandQueued, CommandRejected, Delivery
from services.settings import Settings
from storage.connection import Store
from storage.event_store import ensure_command_groups
from storage.keys import PartitionKeys
from tests.conftest import TEST_PARTITIONS
from tests.processes import ServiceProcess, store_env, sync_client, wait_until


@pytest.fixture
def processor(settings: Settings, redis: Store, logs_dir: Path) -> Iterator[ServiceProcess]:
    env = {
        **store_env(settings.store),
        "COMMENTSTREAM_PARTITIONS": str(TEST_PARTITIONS),
        "COMMENTSTREAM_SECRET": settings.secret,
    }
    process = ServiceProcess(["processor"], env, logs_dir).start()
    client = sync_client(settings.store)
    try:
        commands = [PartitionKeys(p).commands for p in range(TEST_PARTITIONS)]
        wait_until(lambda: all(client.exists(c) for c in commands), 20, "the processor's groups")
    finally:
        client.close()
    yield process
    process.stop()


@pytest.fixture
async def client(settings: Settings, redis: Store) -> AsyncIterator[Client]:
    async with await Client.connect(
        settings.store, TEST_PARTITIONS, service="tester", timeout_seconds=10
    ) as connected:
        yield connected


async def take(events: AsyncIterator[Delivery], count: int, ack: bool = True) -> list[Delivery]:
    """The first `count` deliveries (acknowledged unless not `ack`), then the subscription
    closed."""
    taken: list[Delivery] = []
    async with contextlib.aclosing(events), asyncio.timeout(20):  # type: ignore[type-var]
        async for delivery in events:
            if ack:
                await delivery.ack()
            taken.append(delivery)
            if len(taken) == count:
                break
    return taken


async def test_commands_get_their_outcome_and_a_typed_rejection(
    processor: ServiceProcess, client: Client, thread_id: str
) -> None:
    first = await client.post_comment(
        "default", thread_id, "from a service", author={"name": "Svc"}, command_id=f"{thread_id}-1"
    )
    assert first.status == "accepted" and first.comment_id and first.position
    again = await client.post_comment(
        "default", thread_id, "from a service", command_id=f"{thread_id}-1"
    )
    assert again == first  # idempotent by command id: its first outcome
    with pytest.raises(CommandRejected) as rejected:
        await client.send(
            LikeComment(thread=thread_id, actor=client.actor, comment_id="cnosuchcomment00")
        )
    assert rejected.value.code == "comment_not_found"
    assert await client.outcome_of(f"{thread_id}-1") == first


async def test_a_command_nobody_processes_in_time_is_queued_then_processed(
    settings: Settings, redis: Store, logs_dir: Path, thread_id: str
) -> None:
    await ensure_command_groups(redis, TEST_PARTITIONS)  # as a processor leaves them
    async with await Client.connect(settings.store, TEST_PARTITIONS, timeout_seconds=0.3) as c:
        with pytest.raises(CommandQueued) as queued:
            await c.post_comment("default", thread_id, "waits", command_id=f"{thread_id}-q")
        assert queued.value.command_id == f"{thread_id}-q"
        env = {
            **store_env(settings.store),
            "COMMENTSTREAM_PARTITIONS": str(TEST_PARTITIONS),
            "COMMENTSTREAM_SECRET": settings.secret,
        }
        late = ServiceProcess(["processor"], env, logs_dir).start()
        try:
            for _ in range(100):
                outcome = await c.outcome_of(f"{thread_id}-q")
                if outcome is not None:
                    break
                await asyncio.sleep(0.1)
            assert outcome is not None and outcome.status == "accepted"
        finally:
            late.stop()


async def test_a_subscription_gets_every_event_from_where_it_asked_and_resumes(
    processor: ServiceProcess, client: Client, redis: Store, thread_id: str
) -> None:
    threads = [f"{thread_id}-{n}" for n in range(6)]  # on several partitions
    for thread in threads:
        await client.post_comment("default", thread, f"on {thread}")
    # beginning: each thread's ThreadStarted and CommentPosted, in each partition's order
    seen = await take(client.events("indexer", "beginning", consumer="a"), 12)
    assert sum(isinstance(d.event, CommentPosted) for d in seen) == 6
    for p in range(TEST_PARTITIONS):
        positions = [d.position for d in seen if d.partition == p]
        assert positions == sorted(positions, key=lambda i: tuple(map(int, i.split("-"))))
    # the same group again resumes after what was acknowledged: the next is the new comment
    more = asyncio.ensure_future(take(client.events("indexer", consumer="a"), 1))
    await asyncio.sleep(0.3)
    posted = await client.post_comment("default", threads[0], "one more")
    [resumed] = await more
    assert resumed.position == posted.position and isinstance(resumed.event, CommentPosted)
    # `now`: a new group starts at the end as it is now, named (not `$` later)
    fresh = asyncio.ensure_future(take(client.events("newcomer", "now"), 1))
    await asyncio.sleep(0.5)
    posted = await client.post_comment("default", threads[1], "after now")
    [only] = await fresh
    assert only.position == posted.position


async def test_a_dead_consumers_events_are_claimed_and_poison_is_parked(
    processor: ServiceProcess, client: Client, redis: Store, thread_id: str
) -> None:
    await client.post_comment("default", thread_id, "to claim")
    options = {"claim_idle_ms": 300, "max_deliveries": 2}
    unacked = await take(
        client.events("claims", "beginning", consumer="dies", **options), 2, ack=False
    )
    # another consumer of the group gets them once they have been idle long enough
    claimed = await take(client.events("claims", consumer="lives", **options), 2, ack=False)
    assert {d.position for d in claimed} == {d.position for d in unacked}
    assert all(d.deliveries == 2 for d in claimed)
    # delivered twice, acknowledged never: the next claim parks them in the group's own stream
    survivor = client.events("claims", consumer="third", **options)
    waiting = asyncio.ensure_future(take(survivor, 1))
    dead = [PartitionKeys(p).subscriber_dead("claims") for p in range(TEST_PARTITIONS)]

    async def parked() -> int:
        return sum([await redis.xlen(key) for key in dead])

    for _ in range(100):
        if await parked() == 2:
            break
        await asyncio.sleep(0.1)
    assert await parked() == 2
    waiting.cancel()


async def test_consumers_gone_for_good_leave_the_group(
    processor: ServiceProcess, client: Client, redis: Store, thread_id: str
) -> None:
    await client.post_comment("default", thread_id, "for the group")
    await take(client.events("tidy", "beginning", consumer="old"), 2)
    await asyncio.sleep(0.3)
    events = client.events("tidy", consumer="new", consumer_grace_ms=100, claim_idle_ms=100)
    waiting = asyncio.ensure_future(take(events, 1))
    keys = [PartitionKeys(p).events for p in range(TEST_PARTITIONS)]

    async def consumers() -> set[str]:
        names: set[str] = set()
        for key in keys:
            names |= {c["name"] for c in await redis.xinfo_consumers(key, "tidy")}
        return names

    for _ in range(100):
        if "old" not in await consumers():
            break
        await asyncio.sleep(0.1)
    assert "old" not in await consumers()
    waiting.cancel()


def test_a_checkpoint_keeps_the_furthest_position_of_each_partition() -> None:
    checkpoint = Checkpoint()
    checkpoint.advance(0, "5-1")
    checkpoint.advance(0, "4-9")
    checkpoint.advance(2, "7-0")
    again = Checkpoint.from_json(checkpoint.to_json())
    assert again.positions == {0: "5-1", 2: "7-0"}
    assert again.covers(0, "5-1") and again.covers(0, "4-9") and not again.covers(0, "5-2")
    assert not again.covers(1, "1-0")


async def test_an_unreadable_entry_is_parked_and_the_next_event_delivered(
    processor: ServiceProcess, client: Client, redis: Store, thread_id: str
) -> None:
    posted = await client.post_comment("default", thread_id, "before the garbage")
    keys = PartitionKeys(client._store.keys_for("default", thread_id).p)
    garbage = await redis.xadd(keys.events, {"e": "{not an envelope"})
    after = await client.post_comment("default", thread_id, "after the garbage")
    seen = await take(client.events("careful", "beginning"), 3)
    assert [d.position for d in seen if d.partition == keys.p][-1] == after.position
    assert posted.position in [d.position for d in seen]
    [(_, parked)] = await redis.xrange(keys.subscriber_dead("careful"))
    assert parked["position"] == garbage and parked["reason"] == "unreadable entry"
