"""`commentstream verify`: the hash chain of every thread, then every read model against a fresh
replay of the log."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from events.envelope import GENESIS_HASH
from events.log_entry import UnreadableEntry, broken_link, entry_head, entry_json
from projections.projection import Projection
from services.operations.parallel_build import Workers
from services.operations.replay import active_generation, build_generation, drop_generation
from storage.connection import Store
from storage.keys import PartitionKeys
from storage.log_reader import log_entries

SCRATCH_GENERATION = -1  # never active: where verify rebuilds a model to compare


@dataclass(frozen=True)
class BrokenLink:
    """The first event of a thread whose chain does not hold."""

    site: str
    thread: str
    thread_version: int
    position: str
    problem: str
    expected: str
    found: str


@dataclass
class ChainReport:
    events: int = 0
    threads: int = 0
    broken: list[BrokenLink] = field(default_factory=list)


@dataclass(frozen=True)
class Difference:
    projection: str
    key: str
    field: str | None
    in_model: Any
    in_replay: Any


async def verify_chains(
    redis: Store, partitions: int, progress: Callable[[int], None]
) -> ChainReport:
    """Walk every thread's hash chain in log order; report each thread's first broken link."""
    report = ChainReport()
    heads: dict[tuple[str, str], tuple[int, str]] = {}
    broken: set[tuple[str, str]] = set()
    for p in range(partitions):
        async for page in log_entries(redis, PartitionKeys(p)):
            for entry_id, fields in page:
                report.events += 1
                _check(report, heads, broken, entry_id, fields)
            progress(len(page))
    report.threads = len(heads) + len(broken - heads.keys())
    return report


def _check(
    report: ChainReport,
    heads: dict[tuple[str, str], tuple[int, str]],
    broken: set[tuple[str, str]],
    entry_id: str,
    fields: dict[str, str],
) -> None:
    try:
        head = entry_head(fields)
    except UnreadableEntry:
        found = entry_json(fields)[:80]
        report.broken.append(BrokenLink("?", "?", 0, entry_id, "unreadable entry", "", found))
        return
    thread = (head.site, head.thread)
    if thread in broken:
        return
    problem = broken_link(fields, *heads.get(thread, (0, GENESIS_HASH)), head=head)
    if problem is not None:
        broken.add(thread)
        heads.pop(thread, None)
        report.broken.append(BrokenLink(head.site, head.thread, head.version, entry_id, *problem))
        return
    heads[thread] = (head.version, head.hash)


async def compare_models(
    redis: Store,
    projection: Projection,
    partitions: int,
    progress: Callable[[int], None],
    workers: Workers | None = None,
) -> list[Difference]:
    """Rebuild `projection` beside the live one up to the same checkpoints and diff them."""
    name = projection.name
    active = await active_generation(redis, name, partitions)
    until: dict[int, str | None] = {}
    for p in range(partitions):
        until[p] = await redis.get(PartitionKeys(p).projection(name, active[p]).checkpoint)
    await drop_generation(redis, name, SCRATCH_GENERATION, partitions)
    try:
        await build_generation(
            redis, projection, SCRATCH_GENERATION, partitions, progress, until, workers
        )
        differences: list[Difference] = []
        for p in range(partitions):
            keys = PartitionKeys(p)
            live = keys.projection(name, active[p])
            found = await _diff(
                redis, name, live.prefix, keys.projection(name, SCRATCH_GENERATION).prefix
            )
            # A live model that moved on while verify ran is not comparable: skip it.
            if found and await redis.get(live.checkpoint) == until[p]:
                differences += found
        return differences
    finally:
        await drop_generation(redis, name, SCRATCH_GENERATION, partitions)


async def _diff(redis: Store, name: str, live: str, scratch: str) -> list[Difference]:
    suffixes = {key[len(live) :] async for key in redis.scan_iter(match=live + ":*", count=1000)}
    suffixes |= {
        key[len(scratch) :] async for key in redis.scan_iter(match=scratch + ":*", count=1000)
    }
    suffixes.discard(":checkpoint")
    differences = []
    for suffix in sorted(suffixes):
        mine, fresh = await _content(redis, live + suffix), await _content(redis, scratch + suffix)
        if mine == fresh:
            continue
        if isinstance(mine, dict) and isinstance(fresh, dict):
            for item in sorted(set(mine) | set(fresh)):
                was, now = mine.get(item), fresh.get(item)
                if was != now:
                    differences.append(Difference(name, live + suffix, item, was, now))
        else:
            differences.append(Difference(name, live + suffix, None, mine, fresh))
    return differences


async def _content(redis: Store, key: str) -> Any:
    kind = await redis.type(key)
    if kind == "hash":
        return await redis.hgetall(key)
    if kind == "zset":
        return dict(await redis.zrange(key, 0, -1, withscores=True))
    if kind == "string":
        return await redis.get(key)
    if kind == "none":
        return None
    return f"<{kind}>"
