"""A projection as a FastStream application: per partition, one subscriber without a group
reads `cs:{p}:events` from the stored checkpoint (from the start of the log for a new
projection) and hands each batch to the runner."""

import asyncio
from typing import Any

from faststream import FastStream
from faststream.redis import RedisBroker, StreamSub

from projections.registry import MakeProjection
from services.projector.runner import ProjectorRunner
from services.runtime import entries_unparsed, make_broker, raw_entries, supervise
from services.settings import Settings
from storage.connection import connect
from storage.deployment import DeploymentGuard
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys
from storage.stream_entries import text


def build_projector(
    settings: Settings, make_projection: MakeProjection
) -> tuple[FastStream, DeploymentGuard]:
    """The FastStream app of one projection over every partition."""
    broker = make_broker(settings)
    app = FastStream(broker)
    redis = connect(settings.redis_url)
    projection = make_projection(redis, AuthorKeyVault(redis, settings.secret))
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
        parser=entries_unparsed,
        decoder=raw_entries,
        title=f"events-{keys.p}-{runner.projection.name}",
        description="The log of one partition: one envelope per entry, never trimmed.",
    )
    async def on_events(raw: Any) -> None:
        entries = raw["message_ids"]
        await runner.process(
            keys,
            (
                (text(entry_id), fields)
                for entry_id, fields in zip(entries, raw["data"], strict=True)
            ),
        )
        if linger_seconds and len(entries) < batch:
            # Linger before the next read, so that events arrive in bigger batches: the cost of
            # a batch (a read, a commit, FastStream's own) is then shared. Off by default: spread
            # over partitions, few events come meanwhile, and the timer is one more wake-up.
            await asyncio.sleep(linger_seconds)
