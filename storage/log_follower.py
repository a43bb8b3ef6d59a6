"""Follow every partition's log at once: one blocking XREAD over all of them (one per partition,
all in flight, on a cluster: storage/stream_reads.py), so that what arrives together, on any
partition, is read and handled together (a projector pays for one read and one commit round
trip per batch, not per partition per event)."""

from storage.connection import Store
from storage.keys import PartitionKeys
from storage.log_reader import LogEntry
from storage.stream_reads import StreamEntries, StreamReads

BLOCK_MS = 1000  # below redis-py's default socket timeout (5 s), so a quiet log never times out


class LogFollower:
    """New entries of several partitions' logs, after a cursor per partition, in log order per
    partition. Each `read` moves the cursors past what it returned."""

    def __init__(
        self,
        redis: Store,
        cursors: dict[int, str | None],
        count: int,
        block_ms: int = BLOCK_MS,
    ) -> None:
        self._reads = StreamReads(redis, count, block_ms)
        self._partitions = {PartitionKeys(p).events: PartitionKeys(p) for p in cursors}
        self._cursors = {PartitionKeys(p).events: last or "0" for p, last in cursors.items()}

    def move(self, p: int, entry_id: str) -> None:
        """Read partition `p` after `entry_id` from now on (a projection that reloaded its
        checkpoint)."""
        self._cursors[PartitionKeys(p).events] = entry_id
        self._reads.moved(PartitionKeys(p).events)

    async def read(self) -> list[tuple[PartitionKeys, list[LogEntry]]]:
        """What is new, waiting up to the block time for anything; [] when nothing came."""
        batches = by_partition(await self._reads.read(self._cursors), self._partitions)
        for keys, batch in batches:
            self._cursors[keys.events] = batch[-1][0]
        return batches

    async def aclose(self) -> None:
        await self._reads.aclose()


def by_partition(
    found: list[StreamEntries], partitions: dict[str, PartitionKeys]
) -> list[tuple[PartitionKeys, list[LogEntry]]]:
    """Each stream's entries with its partition; `partitions` names each stream's partition."""
    return [(partitions[stream], entries) for stream, entries in found]
