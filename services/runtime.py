"""What every FastStream service (processor, projectors) runs on: its broker, the decoder that
takes entries as Redis sent them, and its lifecycle (deployment check, heartbeat)."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import FastStream
from faststream.message import StreamMessage
from faststream.redis import RedisBroker
from redis.asyncio import Redis

from services.settings import Settings
from storage.connection import connection_class, redis_url
from storage.deployment import DeploymentGuard
from storage.heartbeats import beat, beat_forever, instance_name


def make_broker(settings: Settings) -> RedisBroker:
    """A broker whose per-message log lines are DEBUG, so INFO logs stay readable."""
    url = redis_url(settings.redis_url)
    return RedisBroker(url, log_level=logging.DEBUG, connection_class=connection_class(url))


async def entries_unparsed(
    message: Any, parse: Callable[[Any], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """A batch subscriber's parser that leaves the entries' fields alone: FastStream's own
    serialises a batch's fields to JSON, which fails on bytes that are not UTF-8 (a log entry's
    sealed data) and is work no decoder here uses (raw_entries). The entries stay in
    `raw_message`."""
    parsed = await parse({**message, "data": [{} for _ in message["data"]]})
    parsed.raw_message = message
    return parsed


async def raw_entries(message: StreamMessage[Any]) -> Any:
    """A subscriber's decoder: the entries as Redis gave them (ids and fields), taken whole.

    (Asking FastStream for the message as a context parameter instead costs a thread hop per
    batch: fast_depends resolves context fields with a synchronous call in a thread pool.)"""
    return message.raw_message


def supervise(app: FastStream, redis: Redis, service: str, settings: Settings) -> DeploymentGuard:
    """While `app` runs: check the deployment marker first, then beat and watch for a wiped
    server (stopping the app if it is); close `redis` at the end."""
    instance = instance_name(service)
    guard = DeploymentGuard(redis, settings.deployment)
    tasks: list[asyncio.Task[None]] = []

    @app.on_startup
    async def establish_deployment() -> None:
        await guard.establish()
        # Alive before the first message is taken, not only once startup has finished: the
        # subscribers start consuming before the `after_startup` hooks run.
        await beat(redis, instance)

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
