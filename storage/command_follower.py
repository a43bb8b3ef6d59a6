"""Take new commands of every partition at once, for one consumer of the writer group: one
blocking XREADGROUP over every command stream (one per partition, all in flight, on a cluster:
storage/stream_reads.py), so the processor pays one read for what arrives together, not a read
per partition per command."""

from storage.connection import Store
from storage.keys import WRITER_GROUP, PartitionKeys
from storage.log_follower import BLOCK_MS, by_partition
from storage.log_reader import LogEntry
from storage.stream_reads import StreamReads


class CommandFollower:
    """New entries of the command streams of `partitions`, delivered to `consumer` of the writer
    group (they stay pending until the append script acknowledges them)."""

    def __init__(
        self,
        redis: Store,
        partitions: list[int],
        consumer: str,
        count: int,
        block_ms: int = BLOCK_MS,
    ) -> None:
        self._reads = StreamReads(redis, count, block_ms, group=(WRITER_GROUP, consumer))
        self._partitions = {PartitionKeys(p).commands: PartitionKeys(p) for p in partitions}

    async def read(self) -> list[tuple[PartitionKeys, list[LogEntry]]]:
        """What is new, waiting up to the block time for anything; [] when nothing came."""
        found = await self._reads.read(dict.fromkeys(self._partitions, ">"))
        return by_partition(found, self._partitions)

    async def aclose(self) -> None:
        await self._reads.aclose()
