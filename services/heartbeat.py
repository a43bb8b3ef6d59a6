"""Liveness marks: each service refreshes its entry in one sorted set that /readyz reads."""

import asyncio
import contextlib
import os
import socket
import time

from faststream import FastStream
from redis.asyncio import Redis

from services.deployment import DeploymentGuard
from services.settings import Settings
from services.storage.keys import HEARTBEATS

HEARTBEAT_SECONDS = 2.0
STALE_AFTER_SECONDS = 10.0


def instance_name(service: str) -> str:
    return f"{service}@{socket.gethostname()}:{os.getpid()}"


async def beat_forever(redis: Redis, instance: str) -> None:
    """Refresh `instance`'s mark until cancelled, then remove it."""
    try:
        while True:
            with contextlib.suppress(Exception):
                await redis.zadd(HEARTBEATS, {instance: time.time()})
            await asyncio.sleep(HEARTBEAT_SECONDS)
    finally:
        with contextlib.suppress(Exception):
            await redis.zrem(HEARTBEATS, instance)


async def live_services(redis: Redis) -> set[str]:
    """Names of the services with at least one instance seen recently."""
    instances = await redis.zrangebyscore(HEARTBEATS, time.time() - STALE_AFTER_SECONDS, "+inf")
    return {instance.split("@", 1)[0] for instance in instances}


def supervise(app: FastStream, redis: Redis, service: str, settings: Settings) -> DeploymentGuard:
    """While `app` runs: check the deployment marker first, then beat and watch for a wiped
    server (stopping the app if it is); close `redis` at the end."""
    instance = instance_name(service)
    guard = DeploymentGuard(redis, settings.deployment)
    tasks: list[asyncio.Task[None]] = []

    @app.on_startup
    async def establish_deployment() -> None:
        await guard.establish()

    @app.after_startup
    async def start_heartbeat() -> None:
        wiped = asyncio.Event()
        tasks.append(asyncio.create_task(beat_forever(redis, instance)))
        tasks.append(asyncio.create_task(guard.watch(wiped)))

        async def stop_when_wiped() -> None:
            await wiped.wait()
            app.exit()

        tasks.append(asyncio.create_task(stop_when_wiped()))

    @app.on_shutdown
    async def stop_heartbeat() -> None:
        await guard.check()  # FastStream may have stopped on its own after a wipe (NOGROUP)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await redis.aclose()

    return guard
