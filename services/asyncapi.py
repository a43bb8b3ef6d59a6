"""The AsyncAPI document of the streams, generated from the pydantic models in `events/`."""

from typing import Any

from faststream.redis import RedisBroker
from faststream.specification import AsyncAPI

from events.commands import Command
from events.envelope import EventEnvelope
from events.outcomes import Outcome
from services.settings import Settings
from storage.keys import PartitionKeys


def asyncapi_document(settings: Settings) -> Any:
    broker = RedisBroker(settings.redis_url or "redis://127.0.0.1:6379")
    for p in range(settings.partitions):
        keys = PartitionKeys(p)

        @broker.subscriber(
            stream=keys.commands,
            title=f"commands-{p}",
            description=(
                "Commands for threads in this partition (crc32('site/thread') % partitions). "
                "XADD one field `command` holding the command's JSON."
            ),
        )
        async def command(body: Command) -> None:  # pragma: no cover - documentation only
            del body

        broker.publisher(
            stream=keys.events,
            schema=EventEnvelope,
            title=f"events-{p}",
            description="The log: one field `event` with a JSON envelope; never trimmed.",
        )
        broker.publisher(
            stream=keys.outcomes,
            schema=Outcome,
            title=f"outcomes-{p}",
            description="One field `outcome` per processed command, keyed by command_id.",
        )
    spec = AsyncAPI(
        broker,
        title="commentstream streams",
        version="1",
        schema_version="3.0.0",
    )
    return spec.to_specification().to_jsonable()
