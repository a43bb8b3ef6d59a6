"""The command processor as a FastStream application.

One follower takes new commands of every partition in one blocking XREADGROUP (group `writer`)
and handles each partition's in order, the partitions side by side; per partition, a claiming
subscriber (XAUTOCLAIM) takes over entries a dead processor left pending. Entries are
acknowledged by the append script itself, never by FastStream, so an entry that failed stays
pending until it is claimed again or, after `max_deliveries`, dead-lettered.

(FastStream's stream subscriber reads one stream per call and runs its per-message path for
each batch, a sixth of the processor's cost per command; docs/benchmarks.md. FastStream still
runs the app and the rare claims.)
"""

import asyncio
import contextlib
import logging
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.redis import RedisBroker, StreamSub

from events.moderation import ban_key, fingerprint_key
from services.processor.command_handler import CommandHandler
from services.processor.moderation_inputs import (
    BannedKeys,
    ModerationInputs,
    SpamModels,
    approved_before_lookup,
)
from services.processor.signer import LogSigner, load_signing_key
from services.runtime import ServiceTasks, make_broker, raw_entries, supervise
from services.settings import Settings
from services.sites import Sites
from storage.command_follower import CommandFollower
from storage.connection import Store, connect
from storage.deployment import DeploymentGuard
from storage.event_store import CommandEntry, EventStore, Replication, ensure_command_groups
from storage.failures import STORE_UNAVAILABLE, until_the_store_takes_it
from storage.heartbeats import instance_name
from storage.key_vault import AuthorKeyVault
from storage.keys import WRITER_GROUP, PartitionKeys
from storage.log_reader import LogEntry
from storage.stream_entries import text
from storage.subscriptions import remove_gone_consumers

logger = logging.getLogger("commentstream.processor")
SERVICE = "processor"
RETRY_SECONDS = 0.5


def build_processor(settings: Settings) -> tuple[FastStream, DeploymentGuard]:
    broker = make_broker(settings)
    app = FastStream(broker)
    redis = connect(settings.store, SERVICE)
    store = EventStore(
        redis,
        settings.partitions,
        settings.outcome_ttl_seconds,
        Replication(settings.ack_replicas, settings.ack_timeout_ms),
    )
    sites = Sites.from_settings(settings)
    handler = CommandHandler(
        store,
        AuthorKeyVault(redis, settings.secret),
        settings.edit_window,
        ModerationInputs(
            policy_of=lambda site: sites.get(site).moderation,
            fingerprint_key=fingerprint_key(settings.secret),
            approved_before=approved_before_lookup(redis, settings.partitions),
            ban_key=ban_key(settings.secret),
            banned_keys=BannedKeys(redis, settings.partitions),
            spam_models=SpamModels(redis),
        ),
    )
    tasks = ServiceTasks(app)  # first: stopped before `supervise` closes the connection
    guard = supervise(app, redis, SERVICE, settings)
    instance = instance_name(SERVICE)

    owned = settings.owned_partitions
    for p in owned:
        _subscribe_claims(broker, handler, store, PartitionKeys(p), instance, settings)

    @app.on_startup
    async def create_groups_and_follow() -> None:
        await ensure_command_groups(redis, settings.partitions)
        follower = CommandFollower(redis, owned, instance, settings.batch_size)
        tasks.start(_take_commands(handler, follower, instance, settings), "command follower")

    @app.after_startup
    async def tidy_the_writer_group() -> None:
        tasks.start(_remove_gone_writers(store, owned, instance, settings), "consumer tidying")

    if settings.signing_key_file is not None:
        _sign_the_log(app, tasks, redis, settings, load_signing_key(settings.signing_key_file))
    return app, guard


def _sign_the_log(
    app: FastStream, tasks: ServiceTasks, redis: Store, settings: Settings, key: Ed25519PrivateKey
) -> None:
    signer = LogSigner(
        redis, settings.partitions, key, settings.digest_seconds, settings.digest_events
    )

    @app.after_startup
    async def start_signing() -> None:
        tasks.start(signer.run(), "signer")  # it never fails: it starts again by itself


async def _remove_gone_writers(
    store: EventStore, owned: list[int], instance: str, settings: Settings
) -> None:
    """Every so often, the writer group's consumers whose processes are gone leave it."""
    idle_ms = int(settings.consumer_grace_seconds * 1000)
    while True:
        for p in owned:
            with contextlib.suppress(*STORE_UNAVAILABLE):
                await remove_gone_consumers(
                    store.redis, PartitionKeys(p).commands, WRITER_GROUP, instance, idle_ms
                )
        await asyncio.sleep(min(60.0, settings.consumer_grace_seconds / 2))


async def _take_commands(
    handler: CommandHandler, follower: CommandFollower, instance: str, settings: Settings
) -> None:
    """Read new commands and handle them, for as long as the process runs: each partition's
    in order, the partitions side by side; the next read once all are handled."""

    async def handle_in_order(keys: PartitionKeys, entries: list[LogEntry]) -> None:
        for entry_id, fields in entries:
            await _handle_one(handler, keys, instance, entry_id, fields, settings)

    try:
        while True:
            try:
                batches = await follower.read()
            except STORE_UNAVAILABLE as error:
                logger.warning("command read failed (%s); retrying", error)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await asyncio.gather(*(handle_in_order(keys, entries) for keys, entries in batches))
    finally:
        await follower.aclose()  # reads still in flight (a cluster's)


def _subscribe_claims(
    broker: RedisBroker,
    handler: CommandHandler,
    store: EventStore,
    keys: PartitionKeys,
    instance: str,
    settings: Settings,
) -> None:
    @broker.subscriber(
        stream=StreamSub(
            keys.commands,
            group=WRITER_GROUP,
            consumer=instance,
            min_idle_time=settings.claim_idle_ms,
            polling_interval=max(100, settings.claim_idle_ms // 4),
        ),
        ack_policy=AckPolicy.MANUAL,
        decoder=raw_entries,
        include_in_schema=False,
    )
    async def on_claimed(raw: Any) -> None:
        entry_id = text(raw["message_ids"][0])
        pending = await store.redis.xpending_range(
            keys.commands, WRITER_GROUP, min=entry_id, max=entry_id, count=1
        )
        deliveries = pending[0]["times_delivered"] if pending else 1
        if deliveries > settings.max_deliveries:
            await handler.park(
                keys,
                CommandEntry(entry_id),
                raw["data"],
                "processing_failed",
                f"gave up after {deliveries - 1} failed deliveries",
            )
            return
        logger.info("claimed %s on %s (delivery %d)", entry_id, keys.commands, deliveries)
        await _handle_one(handler, keys, instance, entry_id, raw["data"], settings)


async def _handle_one(
    handler: CommandHandler,
    keys: PartitionKeys,
    instance: str,
    entry_id: str,
    fields: dict[Any, Any],
    settings: Settings,
) -> None:
    """Process one entry. While the store cannot take it (down, at `maxmemory`) it is tried
    again here, its claim renewed meanwhile so that no processor counts the wait as failed
    deliveries (and parks it). A command that fails otherwise must not hold up the others:
    it stays pending, to be claimed again, and parked after `max_deliveries`."""

    try:
        await until_the_store_takes_it(
            lambda: handler.handle_entry(keys, entry_id, fields),
            f"command {entry_id} on {keys.commands}",
            lambda: handler.keep_claim(keys, CommandEntry(entry_id), instance),
            max_delay=settings.claim_idle_ms / 2000,  # renewed before a claimer may take it
        )
    except Exception:
        logger.exception("command %s on %s failed; it stays pending", entry_id, keys.commands)
