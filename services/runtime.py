"""What every FastStream service (processor, projectors) runs on: its broker, the decoder that
takes entries as Redis sent them, its lifecycle (deployment check, heartbeat), and the end of
the process when a task it cannot do without fails."""

import asyncio
import functools
import logging
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

from faststream import FastStream
from faststream.message import StreamMessage
from faststream.redis import RedisBroker, RedisClusterBroker

from services.settings import Settings
from storage.connection import Store, cluster_seeds, connection_class
from storage.deployment import DeploymentGuard
from storage.heartbeats import beat, beat_forever, instance_name
from storage.log_reader import close_client


def make_broker(settings: Settings) -> RedisBroker:
    """A broker of the store (a RedisClusterBroker on a cluster) whose per-message log lines are
    DEBUG, so INFO logs stay readable."""
    store = settings.store
    if store.cluster:
        seeds = cluster_seeds(store.url)
        parts = urlsplit(store.url)
        first = f"{parts.scheme}://{parts.netloc.partition(',')[0]}"
        return RedisClusterBroker(first, startup_nodes=seeds, log_level=logging.DEBUG)
    return RedisBroker(
        store.url, log_level=logging.DEBUG, connection_class=connection_class(store.url)
    )


async def raw_entries(message: StreamMessage[Any]) -> Any:
    """A subscriber's decoder: the entries as Redis gave them (ids and fields), taken whole.

    (Asking FastStream for the message as a context parameter instead costs a thread hop per
    batch: fast_depends resolves context fields with a synchronous call in a thread pool.)"""
    return message.raw_message


class ServiceTasks:
    """The tasks a service runs beside FastStream's subscribers (its followers, the signer):
    one that fails ends the process (to be started again), never leaves it up idle; all are
    cancelled at shutdown. Made before `supervise`, they stop before it closes the connection."""

    def __init__(self, app: FastStream) -> None:
        self._app = app
        self._tasks: list[asyncio.Task[None]] = []
        app.on_shutdown(self._stop)

    def start(self, work: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.create_task(work)
        task.add_done_callback(functools.partial(self._ended, what))
        self._tasks.append(task)

    def _ended(self, what: str, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logging.getLogger("commentstream").error("%s failed", what, exc_info=task.exception())
            self._app.exit()

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        # A task that failed has been logged (and has ended the process): not raised again.
        await asyncio.gather(*self._tasks, return_exceptions=True)


def supervise(app: FastStream, redis: Store, service: str, settings: Settings) -> DeploymentGuard:
    """While `app` runs: check the deployment marker first, then beat and watch for a wiped
    server (stopping the app if it is); close `redis` at the end."""
    instance = instance_name(service)
    guard = DeploymentGuard(redis, settings.deployment, settings.partitions)
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
        await close_client(redis)

    return guard
