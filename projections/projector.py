"""Run a projection as a FastStream application: read the log from a checkpoint, fold, commit.

Per partition one subscriber without a group reads `cs:{p}:events` from the stored checkpoint
(from the start of the log for a new projection). Each batch's read-model writes and the new
checkpoint are committed in one script that first checks the checkpoint has not moved, so a
crash or a duplicate delivery never counts twice. Failures are handled here, per event: an
event that cannot be folded is parked in the projection's dead-letter stream; a Redis error is
retried until Redis answers, since FastStream never redelivers a batch whose handler raised.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import orjson
from faststream import FastStream
from faststream.redis import RedisBroker, StreamSub
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from events.envelope import EventEnvelope, envelope_from_fields, stored_type
from projections.stream_ids import is_after
from projections.writes import WriteBatch, commit
from services.audit.log_reader import log_entries
from services.deployment import DeploymentGuard
from services.heartbeat import supervise
from services.redis_client import connect, make_broker, raw_entries
from services.settings import Settings
from services.storage.keys import PartitionKeys, ProjectionKeys
from services.storage.scripts import Scripts
from services.storage.stream_fields import field, text

logger = logging.getLogger("commentstream.projector")
RETRY_SECONDS = 0.5


class Projection(Protocol):
    name: str
    # The event types this projection folds; None for every type. Others are passed over, known
    # by the type at the end of their stored JSON without parsing it (events/envelope.py,
    # stored_type), so an undecodable entry of such a type is left to the projections that fold
    # it; the checkpoint still moves past them.
    event_types: frozenset[str] | None

    async def plan(self, keys: ProjectionKeys, envelopes: list[EventEnvelope]) -> WriteBatch:
        """The writes that fold `envelopes` into the read model (may read the model first)."""

    def same_stored(self, key: str, field: str, live: str, rebuilt: str) -> bool:
        """Whether two unequal values of one hash field mean the same: one written in an older
        stored form. (Verify compares a live model with its replay value by value.)"""


def dead_letter(batch: WriteBatch, keys: ProjectionKeys, entry_id: str, reason: str) -> None:
    """Park an event the projection cannot fold; it is written with the batch."""
    logger.error("%s: event %s parked: %s", keys.name, entry_id, reason)
    dead = keys.partition.dead_events(keys.name)
    batch.add("XADD", dead, "*", "entry_id", entry_id, "reason", reason)


class ProjectorRunner:
    """Feeds batches of log entries to one projection and commits them with the checkpoint.

    Live (no `generation`), it writes the generation readers use and follows a switch made by a
    replay; given a `generation`, it builds that one, whatever readers use.
    """

    def __init__(self, redis: Redis, projection: Projection, generation: int | None = None) -> None:
        self.redis = redis
        self.projection = projection
        self.building = generation
        self._scripts = Scripts(redis)
        self.positions: dict[int, tuple[ProjectionKeys, str | None]] = {}

    async def load_checkpoint(self, keys: PartitionKeys) -> str | None:
        """Read where this partition's generation stands (following the active one if live)."""
        generation = self.building
        if generation is None:
            generation = int(
                await self.redis.get(keys.active_generation(self.projection.name)) or 0
            )
        target = keys.projection(self.projection.name, generation)
        checkpoint = await self.redis.get(target.checkpoint)
        self.positions[keys.p] = (target, checkpoint)
        return checkpoint

    async def fold_log(
        self,
        keys: PartitionKeys,
        until: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Fold partition `keys.p`'s log from the stored checkpoint up to `until` (None: its
        end), page by page; `progress` hears how many entries each page held."""
        after = await self.load_checkpoint(keys)
        async for page in log_entries(self.redis, keys, after, until):
            await self.process(keys, page)
            if progress is not None:
                progress(len(page))

    async def process(
        self, keys: PartitionKeys, entries: Iterable[tuple[str, str | bytes | None]]
    ) -> None:
        """Fold one batch of (entry id, stored envelope) of partition `keys.p`, in log order;
        returns once committed."""
        entries = list(entries)
        if not entries:
            return
        while True:
            try:
                await self._process_once(keys, entries)
                return
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                logger.warning("%s: Redis unavailable (%s); retrying", self.projection.name, error)
                await asyncio.sleep(RETRY_SECONDS)

    async def _process_once(
        self, keys: PartitionKeys, entries: list[tuple[str, str | bytes | None]]
    ) -> None:
        if keys.p not in self.positions:
            await self.load_checkpoint(keys)
        while True:
            target, checkpoint = self.positions[keys.p]
            fresh = entries[_first_after(entries, checkpoint) :]
            if not fresh:
                return
            batch = WriteBatch()
            envelopes = []
            wanted = self.projection.event_types
            for entry_id, raw in fresh:
                if wanted is not None and raw:
                    kind = stored_type(raw)
                    if kind is not None and kind not in wanted:
                        continue  # not of interest here, known without parsing it
                try:
                    parsed = orjson.loads(raw or b"")
                    if wanted is not None and parsed.get("type") not in wanted:
                        continue
                    envelope = envelope_from_fields(parsed, entry_id)
                    envelope.event()
                    envelopes.append(envelope)
                except Exception as error:
                    dead_letter(batch, target, entry_id, f"undecodable: {error}")
            planned = await self.projection.plan(target, envelopes)
            batch.writes.extend(planned.writes)
            last = fresh[-1][0]
            committed = await commit(
                self.redis,
                self._scripts,
                target,
                checkpoint,
                last,
                batch,
                live=self.building is None,
            )
            if committed == 1:
                self.positions[keys.p] = (target, last)
                return
            logger.info(
                "%s: partition %d %s; reloading",
                self.projection.name,
                keys.p,
                "switched generation" if committed == -1 else "checkpoint moved",
            )
            await self.load_checkpoint(keys)


def _first_after(entries: list[tuple[str, Any]], checkpoint: str | None) -> int:
    """The index of the first entry after `checkpoint` (entries are in log order)."""
    for index, (entry_id, _) in enumerate(entries):
        if is_after(entry_id, checkpoint):
            return index
    return len(entries)


def build_projector(
    settings: Settings, make_projection: Callable[[Redis, Settings], Projection]
) -> tuple[FastStream, DeploymentGuard]:
    """The FastStream app of one projection over every partition."""
    broker = make_broker(settings)
    app = FastStream(broker)
    redis = connect(settings)
    projection = make_projection(redis, settings)
    runner = ProjectorRunner(redis, projection)
    guard = supervise(app, redis, f"projector-{projection.name}", settings)

    @app.on_startup
    async def subscribe_from_checkpoints() -> None:
        for p in range(settings.partitions):
            keys = PartitionKeys(p)
            checkpoint = await runner.load_checkpoint(keys)
            _subscribe(
                broker,
                runner,
                keys,
                checkpoint or "0",
                settings.batch_size,
                settings.batch_linger_ms / 1000,
            )

    return app, guard


def _subscribe(
    broker: RedisBroker,
    runner: ProjectorRunner,
    keys: PartitionKeys,
    last_id: str,
    batch: int,
    linger_seconds: float,
) -> None:
    @broker.subscriber(
        stream=StreamSub(
            keys.events, last_id=last_id, batch=True, max_records=batch, polling_interval=100
        ),
        decoder=raw_entries,
        title=f"events-{keys.p}-{runner.projection.name}",
        description="The log of one partition: one JSON envelope per entry, never trimmed.",
    )
    async def on_events(raw: Any) -> None:
        entries = raw["message_ids"]
        await runner.process(
            keys,
            (
                (text(entry_id), field(fields, "event"))
                for entry_id, fields in zip(entries, raw["data"], strict=True)
            ),
        )
        if linger_seconds and len(entries) < batch:
            # Linger before the next read, so that events arrive in bigger batches: the cost of
            # a batch (a read, a commit, FastStream's own) is then shared. Off by default: with
            # 8 partitions few events come in 2 ms, and the timer was one more wake-up per event.
            await asyncio.sleep(linger_seconds)
