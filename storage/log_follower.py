"""Follow every partition's log at once: one blocking XREAD over all of them, so that what
arrives together, on any partition, is read and handled together (a projector pays for one read
and one commit round trip per batch, not per partition per event)."""

from typing import Any

from redis.asyncio import Redis

from storage.keys import PartitionKeys
from storage.log_reader import LogEntry, entry_fields, raw_client

BLOCK_MS = 1000  # below redis-py's default socket timeout (5 s), so a quiet log never times out


class LogFollower:
    """New entries of several partitions' logs, after a cursor per partition, in log order per
    partition. Each `read` moves the cursors past what it returned."""

    def __init__(
        self,
        redis: Redis,
        cursors: dict[int, str | None],
        count: int,
        block_ms: int = BLOCK_MS,
    ) -> None:
        # Replies as Redis sent them: redis-py's XREAD parsing builds a dict per entry in a
        # slower way.
        self._raw = raw_client(redis)
        self._partitions = {PartitionKeys(p).events: PartitionKeys(p) for p in cursors}
        self._cursors = {PartitionKeys(p).events: last or "0" for p, last in cursors.items()}
        self._count = count
        self._block_ms = block_ms

    def move(self, p: int, entry_id: str) -> None:
        """Read partition `p` after `entry_id` from now on (a projection that reloaded its
        checkpoint)."""
        self._cursors[PartitionKeys(p).events] = entry_id

    async def read(self) -> list[tuple[PartitionKeys, list[LogEntry]]]:
        """What is new, waiting up to the block time for anything; [] when nothing came."""
        replies = await self._raw.xread(self._cursors, count=self._count, block=self._block_ms)
        batches = stream_batches(replies, self._partitions)
        for keys, batch in batches:
            self._cursors[keys.events] = batch[-1][0]
        return batches


def stream_batches(
    replies: Any, partitions: dict[str, PartitionKeys]
) -> list[tuple[PartitionKeys, list[LogEntry]]]:
    """An XREAD or XREADGROUP reply, as sent, as (partition, entries) of each stream that had
    any; `partitions` names each stream's partition."""
    if isinstance(replies, dict):  # RESP3 answers a map of stream -> entries
        replies = replies.items()
    batches = []
    for stream, entries in replies or []:
        name = stream if isinstance(stream, str) else stream.decode()
        batch = [(entry_id, entry_fields(fields or [])) for entry_id, fields in entries]
        if batch:
            batches.append((partitions[name], batch))
    return batches
