"""The live fan-out's buffers and caps, without a server: a reader that falls behind its buffer
is dropped (its stream ends, to come back with Last-Event-ID) while the others go on, and the
caps per address and per process refuse streams with their own codes."""

from datetime import timedelta

import pytest
from redis.asyncio import Redis

from services.gateway.live_hub import LiveHub, StreamRefused
from services.gateway.read_models import ReadModels

NOWHERE = "redis://127.0.0.1:1"  # never connected to: the follower is not started here


def hub(per_process: int = 10, per_address: int = 5, buffer: int = 3) -> LiveHub:
    redis = Redis.from_url(NOWHERE)
    return LiveHub(
        follower=redis,
        reads=ReadModels(redis, 0.1, timedelta(minutes=15)),
        partitions=1,
        per_process=per_process,
        per_address=per_address,
        buffer=buffer,
    )


async def test_a_reader_behind_its_buffer_is_dropped_and_the_others_go_on() -> None:
    live = hub(buffer=3)
    slow = live.subscribe("default", "t", "10.0.0.1")
    quick = live.subscribe("default", "t", "10.0.0.2")
    for version in range(1, 6):
        for subscription in (slow, quick):
            if not subscription.dropped:
                live._deliver(subscription, (version, f"m{version}"))
        await quick.queue.get()  # the quick reader keeps up
    assert slow.dropped and not quick.dropped
    assert slow.queue.get_nowait() is None and slow.queue.empty()  # its stream ends
    assert live.open_streams == 1


async def test_streams_are_capped_per_address_and_per_process() -> None:
    live = hub(per_process=3, per_address=2)
    first = live.subscribe("default", "t", "10.0.0.1")
    live.subscribe("default", "t", "10.0.0.1")
    with pytest.raises(StreamRefused) as per_address:
        live.subscribe("default", "u", "10.0.0.1")
    assert (per_address.value.status, per_address.value.code) == (429, "too_many_live_streams")
    live.subscribe("default", "u", "10.0.0.2")
    with pytest.raises(StreamRefused) as per_process:
        live.subscribe("default", "u", "10.0.0.3")
    assert (per_process.value.status, per_process.value.code) == (503, "live_full")
    live.unsubscribe(first)
    live.subscribe("default", "t", "10.0.0.1")  # a closed stream frees its place


async def test_stopping_ends_every_stream() -> None:
    live = hub()
    readers = [live.subscribe("default", f"t{n}", "10.0.0.1") for n in range(3)]
    live._deliver(readers[0], (1, "m1"))
    await live.stop()
    assert all(reader.queue.get_nowait() is None for reader in readers)
