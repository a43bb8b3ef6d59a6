"""Dead letters: commands and events parked with their reason. List, retry (commands), drop."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storage.connection import Store
from storage.event_store import enqueue_command
from storage.keys import PartitionKeys


@dataclass(frozen=True)
class DeadLetter:
    ref: str  # "<kind>:<partition>:<entry id>"
    kind: str  # "commands" or a projection's name
    partition: int
    entry_id: str
    reason: str
    detail: str
    fields: dict[str, Any]


def _stream(keys: PartitionKeys, kind: str) -> str:
    return keys.dead_commands if kind == "commands" else keys.dead_events(kind)


async def dead_letters(
    redis: Store, partitions: int, projections: Iterable[str]
) -> list[DeadLetter]:
    """Every parked command, and every event parked by one of `projections`."""
    kinds = ("commands", *projections)
    found: list[DeadLetter] = []
    for p in range(partitions):
        keys = PartitionKeys(p)
        for kind in kinds:
            for entry_id, fields in await redis.xrange(_stream(keys, kind)):
                found.append(
                    DeadLetter(
                        ref=f"{kind}:{p}:{entry_id}",
                        kind=kind,
                        partition=p,
                        entry_id=entry_id,
                        reason=fields.get("reason", ""),
                        detail=fields.get("detail", ""),
                        fields=fields,
                    )
                )
    return found


async def counts(redis: Store, partitions: int, projections: Iterable[str]) -> dict[str, int]:
    """How many dead letters each kind holds, over all partitions (for /metrics)."""
    totals = dict.fromkeys(("commands", *projections), 0)
    async with redis.pipeline(transaction=False) as pipe:
        for p in range(partitions):
            for kind in totals:
                pipe.xlen(_stream(PartitionKeys(p), kind))
        lengths = await pipe.execute()
    for index, length in enumerate(lengths):
        totals[list(totals)[index % len(totals)]] += length
    return totals


async def retry(redis: Store, letter: DeadLetter) -> bool:
    """Send a parked command again, as it was; events cannot be retried (use `replay`)."""
    if letter.kind != "commands" or "fields" not in letter.fields:
        return False
    keys = PartitionKeys(letter.partition)
    await enqueue_command(redis, keys, json.loads(letter.fields["fields"]))
    await redis.xdel(keys.dead_commands, letter.entry_id)
    return True


async def drop(redis: Store, letter: DeadLetter) -> bool:
    stream = _stream(PartitionKeys(letter.partition), letter.kind)
    return bool(await redis.xdel(stream, letter.entry_id))
