"""The AsyncAPI document of the streams, generated from the pydantic models in `events/`."""

from typing import Any

from faststream.redis import RedisBroker
from faststream.specification import AsyncAPI

from events.commands import Command
from events.envelope import EventEnvelope
from events.outcomes import Outcome
from storage.keys import PartitionKeys

SERVER_URL = "redis://localhost:6379"  # a placeholder: the document describes streams, not hosts


def asyncapi_document(partitions: int) -> Any:
    broker = RedisBroker(SERVER_URL)
    for p in range(partitions):
        keys = PartitionKeys(p)

        @broker.subscriber(
            stream=keys.commands,
            title=f"commands-{p}",
            description=(
                f"Commands for the threads of partition {p} (crc32('site/thread') % partitions;"
                f" every key of the partition has its hash tag, here `{keys.tag[3:]}`). XADD one"
                " field `command` holding the command's JSON (NOMKSTREAM: never create the"
                " stream). The outcome comes on the partition's outcome stream and under"
                f" `{keys.outcome('{command_id}')}`."
            ),
        )
        async def command(body: Command) -> None:  # pragma: no cover - documentation only
            del body

        broker.publisher(
            stream=keys.events,
            schema=EventEnvelope,
            title=f"events-{p}",
            description=(
                "The log, never trimmed. Each entry: field `e` = the envelope's JSON (this"
                " schema; its `data` is the event's, docs/schemas/events/), `h` = its chain"
                " hash, `p` = its sealed personal data (bytes, when it has any); the entry as a"
                " whole: docs/schemas/log-entry-v2.schema.json. Subscribe with a consumer group"
                " of your own."
            ),
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
