"""The webhook delivery service (`commentstream webhooks`), a process of its own with its own
consumer group (`webhooks`) on every partition's log: each new event of a site goes, in its
public form, to each of that site's endpoints that wants its type. An event is acknowledged
once its first attempts are done (answered, or their retry scheduled), so a crash delivers it
again, with the same `webhook-id`."""

import asyncio
import contextlib
import json
import logging
from typing import Any

from faststream import FastStream

from events.envelope import EventEnvelope
from events.log_entry import decode_entry
from events.public_event import public_event
from services.runtime import ServiceTasks, make_broker, supervise
from services.settings import Settings
from services.webhooks.delivery import Deliverer
from storage.connection import connect
from storage.deployment import DeploymentGuard
from storage.failures import STORE_UNAVAILABLE
from storage.heartbeats import instance_name
from storage.keys import PartitionKeys
from storage.subscriptions import GroupOnTheLog
from storage.webhook_store import Endpoint, WebhookStore

logger = logging.getLogger("commentstream.webhooks")
SERVICE = "webhooks"
GROUP = "webhooks"
RETRY_SECONDS = 0.5
CLAIM_IDLE_MS = 30_000
MAX_IN_FLIGHT = 1_000


def build_webhooks(settings: Settings) -> tuple[FastStream, DeploymentGuard]:
    app = FastStream(make_broker(settings))
    redis = connect(settings.store, SERVICE)
    store = WebhookStore(redis)
    deliverer = Deliverer(
        store,
        settings.webhook_schedule_seconds,
        settings.webhook_disable_after,
        settings.webhooks_allow_private,
        settings.webhook_timeout_seconds,
        settings.webhook_concurrency,
    )
    tasks = ServiceTasks(app)  # first: stopped before `supervise` closes the connection
    guard = supervise(app, redis, SERVICE, settings)
    app.on_shutdown(deliverer.aclose)

    @app.on_startup
    async def follow_the_log() -> None:
        group = GroupOnTheLog(redis, settings.partitions, GROUP, instance_name(SERVICE))
        await group.create("now")  # the first start: events from now on (no endpoint before)
        grace_ms = int(settings.consumer_grace_seconds * 1000)
        tasks.start(deliver_events(group, store, deliverer, grace_ms), "webhook events")
        tasks.start(retry_forever(deliverer), "webhook retries")

    return app, guard


async def retry_forever(deliverer: Deliverer) -> None:
    while True:
        try:
            await deliverer.retry_due()
        except STORE_UNAVAILABLE as error:
            logger.warning("webhook retries: %s; later", error)
        await asyncio.sleep(0.2)


class Endpoints:
    """Every site's endpoints as they were when the batch at hand was read: an endpoint gets
    every event appended after it was registered (read again for each batch, not cached)."""

    def __init__(self, store: WebhookStore) -> None:
        self._store = store
        self._endpoints: list[Endpoint] = []

    async def refresh(self) -> None:
        self._endpoints = await self._store.all()

    def of(self, site: str, event_type: str) -> list[Endpoint]:
        return [e for e in self._endpoints if e.site == site and e.wants(event_type)]


async def deliver_events(
    group: GroupOnTheLog, store: WebhookStore, deliverer: Deliverer, grace_ms: int
) -> None:
    endpoints = Endpoints(store)
    in_flight: set[asyncio.Task[None]] = set()
    try:
        while True:
            try:
                claimed, batches = await group.take(100, CLAIM_IDLE_MS, grace_ms)
                batches = [(p.partition, [(p.entry_id, p.fields)]) for p in claimed] + batches
                if batches:
                    await endpoints.refresh()  # after the read: none registered before is missed
            except STORE_UNAVAILABLE as error:
                logger.warning("webhook events: %s; retrying", error)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for keys, entries in batches:
                nothing_to_send = []
                for entry_id, fields in entries:
                    try:
                        envelope = decode_entry(fields, entry_id)
                    except ValueError:  # not an event this version reads: nothing to send
                        nothing_to_send.append(entry_id)
                        continue
                    targets = endpoints.of(envelope.site, envelope.type)
                    if not targets:
                        nothing_to_send.append(entry_id)
                        continue
                    while len(in_flight) >= MAX_IN_FLIGHT:  # receivers slower than the log
                        await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    task = asyncio.create_task(
                        _send(group, deliverer, keys, entry_id, envelope, targets)
                    )
                    in_flight.add(task)
                    task.add_done_callback(_finished(in_flight))
                if nothing_to_send:
                    with contextlib.suppress(*STORE_UNAVAILABLE):  # else delivered again later
                        await group.ack(keys, *nothing_to_send)
    finally:
        for task in in_flight:
            task.cancel()
        await group.aclose()


def _finished(in_flight: set[asyncio.Task[None]]) -> Any:
    def done(task: asyncio.Task[None]) -> None:
        in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("webhook delivery failed", exc_info=task.exception())

    return done


async def _send(
    group: GroupOnTheLog,
    deliverer: Deliverer,
    keys: PartitionKeys,
    entry_id: str,
    envelope: EventEnvelope,
    targets: list[Endpoint],
) -> None:
    """The event to each of its endpoints (first attempts), then acknowledged."""
    payload = json.dumps(public_event(envelope), separators=(",", ":"))
    message_id = f"evt_{keys.p}_{entry_id}"  # the same on every retry and redelivery
    try:
        await asyncio.gather(
            *(deliverer.deliver(endpoint, message_id, payload, 1) for endpoint in targets)
        )
        await group.ack(keys, entry_id)
    except STORE_UNAVAILABLE as error:  # not acknowledged: claimed and tried again later
        logger.warning("webhook delivery of %s: %s", entry_id, error)
