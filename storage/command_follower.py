"""Take new commands of every partition at once, for one consumer of the writer group: one
blocking XREADGROUP over every command stream (the processor pays one read for what arrives
together, not a read per partition per command)."""

from redis.asyncio import Redis

from storage.keys import WRITER_GROUP, PartitionKeys
from storage.log_follower import BLOCK_MS, stream_batches
from storage.log_reader import LogEntry, raw_client


class CommandFollower:
    """New entries of every command stream, delivered to `consumer` of the writer group (they
    stay pending until the append script acknowledges them)."""

    def __init__(
        self, redis: Redis, partitions: int, consumer: str, count: int, block_ms: int = BLOCK_MS
    ) -> None:
        self._raw = raw_client(redis)
        self._partitions = {PartitionKeys(p).commands: PartitionKeys(p) for p in range(partitions)}
        self._consumer = consumer
        self._count = count
        self._block_ms = block_ms

    async def read(self) -> list[tuple[PartitionKeys, list[LogEntry]]]:
        """What is new, waiting up to the block time for anything; [] when nothing came."""
        replies = await self._raw.xreadgroup(
            WRITER_GROUP,
            self._consumer,
            dict.fromkeys(self._partitions, ">"),
            count=self._count,
            block=self._block_ms,
        )
        return stream_batches(replies, self._partitions)
