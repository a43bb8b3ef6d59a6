"""A subscribing service's consumer group on every partition's log (services/client): created
at the position asked for, new entries for one consumer, acknowledgements, entries a dead
consumer left pending claimed after an idle time, poison parked in the group's own dead-letter
stream, and consumers gone for good removed from the group."""

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal

from redis.exceptions import ResponseError

from storage.connection import Store
from storage.failures import STORE_UNAVAILABLE
from storage.keys import PartitionKeys
from storage.log_follower import BLOCK_MS, by_partition
from storage.log_reader import LogEntry
from storage.stream_entries import text
from storage.stream_reads import StreamReads

logger = logging.getLogger("commentstream.subscriptions")

Start = Literal["beginning", "now"] | dict[int, str]
"""Where a new group starts: the log's first entry, its end as it is now, or after the given
position of each partition (a checkpoint kept by the subscriber; absent: the beginning)."""


@dataclass(frozen=True)
class Pending:
    partition: PartitionKeys
    entry_id: str
    fields: dict[str, str]
    deliveries: int


class GroupOnTheLog:
    def __init__(self, redis: Store, partitions: int, group: str, consumer: str) -> None:
        self._redis = redis
        self.partitions = [PartitionKeys(p) for p in range(partitions)]
        self.group = group
        self.consumer = consumer
        self._streams = {keys.events: keys for keys in self.partitions}
        self._reads: StreamReads | None = None
        self._next_claim = 0.0

    async def create(self, start: Start) -> None:
        """The group on every partition's log, at `start`; a group that exists keeps its
        position (a subscriber that comes back resumes where it was)."""
        for keys in self.partitions:
            position = await self._start_position(keys, start)
            try:
                await self._redis.xgroup_create(keys.events, self.group, id=position, mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    async def _start_position(self, keys: PartitionKeys, start: Start) -> str:
        if start == "beginning":
            return "0"
        if start == "now":  # the end as it is now, named: never `$` at some later moment
            last = await self._redis.xrevrange(keys.events, count=1)
            return text(last[0][0]) if last else "0"
        assert isinstance(start, dict)
        return start.get(keys.p, "0")

    async def read_new(
        self, count: int, block_ms: int = BLOCK_MS
    ) -> list[tuple[PartitionKeys, list[LogEntry]]]:
        if self._reads is None:
            self._reads = StreamReads(
                self._redis, count, block_ms, group=(self.group, self.consumer)
            )
        found = await self._reads.read(dict.fromkeys(self._streams, ">"))
        return by_partition(found, self._streams)

    async def take(
        self, count: int, claim_idle_ms: int, grace_ms: int
    ) -> tuple[list[Pending], list[tuple[PartitionKeys, list[LogEntry]]]]:
        """What this consumer has to handle next: now and then (a quarter of the claim time)
        the entries idle past `claim_idle_ms` that it claims, with gone consumers removed;
        then the new entries. A failed claim waits for the next turn; a failed read raises
        (STORE_UNAVAILABLE), for the caller to wait and call again."""
        claimed: list[Pending] = []
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_claim:
            self._next_claim = loop.time() + max(0.1, claim_idle_ms / 4000)
            try:
                claimed = await self.claim_idle(claim_idle_ms, count)
                await self.remove_gone_consumers(grace_ms)
            except STORE_UNAVAILABLE as error:
                logger.warning("%s: claim failed (%s); later", self.group, error)
        return claimed, await self.read_new(count)

    async def ack(self, keys: PartitionKeys, *entry_ids: str) -> None:
        await self._redis.xack(keys.events, self.group, *entry_ids)

    async def claim_idle(self, idle_ms: int, count: int) -> list[Pending]:
        """Entries pending longer than `idle_ms` with any consumer (a dead one's), now this
        consumer's, with how often each has been delivered (this delivery included)."""
        claimed: list[Pending] = []
        for keys in self.partitions:
            _, entries, *_ = await self._redis.xautoclaim(
                keys.events, self.group, self.consumer, idle_ms, "0-0", count=count
            )
            if not entries:
                continue
            first, last = text(entries[0][0]), text(entries[-1][0])
            pending = await self._redis.xpending_range(
                keys.events, self.group, min=first, max=last, count=len(entries) * 2
            )
            deliveries = {text(p["message_id"]): int(p["times_delivered"]) for p in pending}
            for entry_id, fields in entries:
                if fields is None:
                    continue  # trimmed away (the log never is)
                entry = text(entry_id)
                claimed.append(Pending(keys, entry, dict(fields), deliveries.get(entry, 1)))
        return claimed

    async def park(self, pending: Pending, reason: str) -> None:
        """Into the group's dead-letter stream, then acknowledged: it is not delivered again."""
        await self._redis.xadd(
            pending.partition.subscriber_dead(self.group),
            {
                "position": pending.entry_id,
                "deliveries": str(pending.deliveries),
                "reason": reason,
                **pending.fields,
            },
        )
        await self.ack(pending.partition, pending.entry_id)

    async def remove_gone_consumers(self, idle_ms: int) -> list[str]:
        removed: set[str] = set()
        for keys in self.partitions:
            removed |= set(
                await remove_gone_consumers(
                    self._redis, keys.events, self.group, self.consumer, idle_ms
                )
            )
        return sorted(removed)

    async def aclose(self) -> None:
        if self._reads is not None:
            await self._reads.aclose()


async def remove_gone_consumers(
    redis: Store, stream: str, group: str, keep: str, idle_ms: int
) -> list[str]:
    """The consumers of `group` on `stream` idle longer than `idle_ms` with nothing pending,
    but `keep`, removed: gone for good (each process names its consumer after itself, so a
    restarted one is a new consumer; what a dead one left pending is claimed first, so nothing
    is lost by removing it later)."""
    removed = []
    for consumer in await redis.xinfo_consumers(stream, group):
        name = text(consumer["name"])
        if name != keep and consumer["pending"] == 0 and consumer["idle"] > idle_ms:
            await redis.xgroup_delconsumer(stream, group, name)
            removed.append(name)
    return removed
