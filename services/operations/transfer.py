"""Export the log as JSON lines and import it into an empty deployment, byte for byte: same
envelopes, same positions, same hash chains; read models then rebuild from it."""

import heapq
import json
from collections.abc import AsyncIterator, Callable, Iterable

from redis.asyncio import Redis

from events.decider import ThreadState, evolve
from events.envelope import canonical_json, decode_envelope
from storage.keys import PartitionKeys, partition_of
from storage.log_reader import log_entries, log_length
from storage.stream_entries import parse_stream_id
from storage.thread_state import whole_state

PIPELINE = 1000


async def export_lines(
    redis: Redis, partitions: int, site: str | None, progress: Callable[[int], None]
) -> AsyncIterator[str]:
    """Every envelope (with its `position`) as one JSON line, in log order across partitions."""
    needle = f'"site":"{site}"' if site else None
    sources = [_entries(redis, PartitionKeys(p)) for p in range(partitions)]
    heap: list[tuple[tuple[int, int], int, str, str]] = []
    for index, source in enumerate(sources):
        await _push(heap, index, source)
    while heap:
        _, index, entry_id, raw = heapq.heappop(heap)
        progress(1)
        if needle is None or needle in raw:
            yield raw[:-1] + f',"position":"{entry_id}"}}'
        await _push(heap, index, sources[index])


async def _entries(redis: Redis, keys: PartitionKeys) -> AsyncIterator[tuple[str, str]]:
    async for page in log_entries(redis, keys):
        for entry in page:
            yield entry


async def _push(
    heap: list[tuple[tuple[int, int], int, str, str]],
    index: int,
    source: AsyncIterator[tuple[str, str]],
) -> None:
    entry = await anext(source, None)
    if entry is not None:
        heapq.heappush(heap, (parse_stream_id(entry[0]), index, entry[0], entry[1]))


class NotEmpty(RuntimeError):
    pass


async def import_lines(
    redis: Redis, partitions: int, lines: Iterable[str], progress: Callable[[int], None]
) -> int:
    """Append exported envelopes at their original positions; the deployment must be empty."""
    if await log_length(redis, partitions):
        raise NotEmpty("the log is not empty: import-events only fills an empty deployment")
    states: dict[tuple[str, str], ThreadState] = {}
    imported = queued = 0
    pipe = redis.pipeline(transaction=False)
    for line in lines:
        if not line.strip():
            continue
        fields = json.loads(line)
        position = fields.pop("position")
        raw = canonical_json(fields)
        site, thread = fields["site"], fields["thread"]
        keys = PartitionKeys(partition_of(site, thread, partitions))
        pipe.xadd(keys.events, {"event": raw}, id=position)
        pipe.xadd(
            keys.thread_events(site, thread),
            {"position": position},
            id=f"0-{fields['thread_version']}",
        )
        pipe.sadd(keys.actor_threads(fields["actor"]["id"]), f"{site}/{thread}")
        states[(site, thread)] = evolve(
            states.get((site, thread), ThreadState()), decode_envelope(raw, position)
        )
        imported += 1
        queued += 1
        if queued >= PIPELINE:
            await pipe.execute()
            progress(queued)
            queued = 0
    for (site, thread), state in states.items():
        keys = PartitionKeys(partition_of(site, thread, partitions))
        pipe.hset(
            keys.thread_state(site, thread),
            mapping=whole_state(state),  # type: ignore[arg-type]
        )
    await pipe.execute()
    progress(queued)
    return imported
