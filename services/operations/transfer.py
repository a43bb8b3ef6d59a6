"""Export the log as JSON lines and import it into an empty deployment, byte for byte: same
entries, same positions, same hash chains; read models then rebuild from it.

A line is a v1 envelope with its `position` added, or a v2 entry: `{"position", "e" (the
stored JSON, as a string), "h", "p" (the sealed bytes in base64, when the entry has them)}`."""

import base64
import heapq
import json
from collections.abc import AsyncIterator, Callable, Iterable

from events.decider import ThreadState, evolve
from events.log_entry import (
    HASH_FIELD,
    JSON_FIELD,
    SEALED_FIELD,
    V1_FIELD,
    EntryFields,
    UnreadableEntry,
    as_bytes,
    canonical_json,
    decode_entry,
    entry_head,
    field_value,
)
from storage.connection import Store
from storage.keys import PartitionKeys, partition_of
from storage.log_reader import LogEntry, log_entries, log_length
from storage.stream_entries import parse_stream_id
from storage.thread_state import whole_state

PIPELINE = 1000


async def export_lines(
    redis: Store, partitions: int, site: str | None, progress: Callable[[int], None]
) -> AsyncIterator[str]:
    """Every entry (with its `position`) as one JSON line, in log order across partitions."""
    sources = [_entries(redis, PartitionKeys(p)) for p in range(partitions)]
    heap: list[tuple[tuple[int, int], int, str, dict[str, str]]] = []
    for index, source in enumerate(sources):
        await _push(heap, index, source)
    while heap:
        _, index, entry_id, fields = heapq.heappop(heap)
        progress(1)
        if site is None or _site_of(fields) == site:
            yield exported_line(entry_id, fields)
        await _push(heap, index, sources[index])


def exported_line(entry_id: str, fields: EntryFields) -> str:
    """One entry as a line of the export (the module's docstring says which form)."""
    head = field_value(fields, JSON_FIELD)
    if head is None:
        raw = as_bytes(field_value(fields, V1_FIELD) or b"").decode()
        return raw[:-1] + f',"position":"{entry_id}"}}'
    line = {
        "position": entry_id,
        JSON_FIELD: as_bytes(head).decode(),
        HASH_FIELD: as_bytes(field_value(fields, HASH_FIELD) or b"").decode(),
    }
    sealed = field_value(fields, SEALED_FIELD)
    if sealed is not None:
        line[SEALED_FIELD] = base64.b64encode(as_bytes(sealed)).decode()
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def imported_entry(line: str) -> tuple[str, dict[str, str | bytes]]:
    """The position and the stored fields of one exported line (`exported_line` undone)."""
    fields = json.loads(line)
    position = fields.pop("position")
    if JSON_FIELD not in fields:
        return position, {V1_FIELD: canonical_json(fields)}
    stored: dict[str, str | bytes] = {
        JSON_FIELD: fields[JSON_FIELD].encode(),
        HASH_FIELD: fields[HASH_FIELD],
    }
    if SEALED_FIELD in fields:
        stored[SEALED_FIELD] = base64.b64decode(fields[SEALED_FIELD])
    return position, stored


def _site_of(fields: dict[str, str]) -> str | None:
    try:
        return entry_head(fields).site
    except UnreadableEntry:
        return None


async def _entries(redis: Store, keys: PartitionKeys) -> AsyncIterator[LogEntry]:
    async for page in log_entries(redis, keys):
        for entry in page:
            yield entry


async def _push(
    heap: list[tuple[tuple[int, int], int, str, dict[str, str]]],
    index: int,
    source: AsyncIterator[LogEntry],
) -> None:
    entry = await anext(source, None)
    if entry is not None:
        heapq.heappush(heap, (parse_stream_id(entry[0]), index, entry[0], entry[1]))


class NotEmpty(RuntimeError):
    pass


async def import_lines(
    redis: Store, partitions: int, lines: Iterable[str], progress: Callable[[int], None]
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
        position, stored = imported_entry(line)
        head = entry_head(stored)
        site, thread = head.site, head.thread
        keys = PartitionKeys(partition_of(site, thread, partitions))
        pipe.xadd(keys.events, stored, id=position)  # type: ignore[arg-type]
        pipe.xadd(keys.thread_events(site, thread), {"position": position}, id=f"0-{head.version}")
        pipe.sadd(keys.actor_threads(head.actor_id), f"{site}/{thread}")
        states[(site, thread)] = evolve(
            states.get((site, thread), ThreadState()), decode_entry(stored, position)
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
