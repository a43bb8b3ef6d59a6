"""Liveness marks: each service refreshes its entry in one sorted set that /readyz reads."""

import asyncio
import contextlib
import os
import socket
import time

from storage.connection import Store
from storage.keys import HEARTBEATS

HEARTBEAT_SECONDS = 2.0
STALE_AFTER_SECONDS = 10.0


def instance_name(service: str) -> str:
    return f"{service}@{socket.gethostname()}:{os.getpid()}"


async def beat(redis: Store, instance: str) -> None:
    """Mark `instance` as alive now (a failure is only a missed beat)."""
    with contextlib.suppress(Exception):
        await redis.zadd(HEARTBEATS, {instance: time.time()})


async def beat_forever(redis: Store, instance: str) -> None:
    """Refresh `instance`'s mark until cancelled, then remove it."""
    try:
        while True:
            await beat(redis, instance)
            await asyncio.sleep(HEARTBEAT_SECONDS)
    finally:
        with contextlib.suppress(Exception):
            await redis.zrem(HEARTBEATS, instance)


async def live_services(redis: Store) -> set[str]:
    """Names of the services with at least one instance seen recently."""
    instances = await redis.zrangebyscore(HEARTBEATS, time.time() - STALE_AFTER_SECONDS, "+inf")
    return {instance.split("@", 1)[0] for instance in instances}
