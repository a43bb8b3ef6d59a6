"""One shared listener per process (the gateway, a client): reads every outcome stream, wakes
waiting writers.

Futures are keyed by command id and registered before the command is published, so an outcome
cannot slip past; on a lost connection the listener resumes from the last entry it saw.
"""

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError

from events.outcomes import Outcome
from storage.connection import Store
from storage.failures import STORE_UNAVAILABLE
from storage.keys import PartitionKeys
from storage.stream_reads import StreamReads

logger = logging.getLogger("commentstream.gateway.outcomes")
BLOCK_MS = 1000


class OutcomeListener:
    def __init__(self, redis: Store, partitions: int) -> None:
        self._redis = redis
        self._streams = [PartitionKeys(p).outcomes for p in range(partitions)]
        self._waiting: dict[str, asyncio.Future[Outcome]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        positions = {}
        for stream in self._streams:
            last = await self._redis.xrevrange(stream, count=1)
            positions[stream] = last[0][0] if last else "0"
        self._task = asyncio.create_task(self._listen(positions))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def expect(self, command_id: str) -> asyncio.Future[Outcome]:
        future = self._waiting.get(command_id)
        if future is None or future.done():
            future = asyncio.get_running_loop().create_future()
            self._waiting[command_id] = future
        return future

    def forget(self, command_id: str) -> None:
        self._waiting.pop(command_id, None)

    async def _listen(self, positions: dict[str, str]) -> None:
        reads = StreamReads(self._redis, 500, BLOCK_MS)
        try:
            while True:
                try:
                    found = await reads.read(positions)
                except (RedisError, *STORE_UNAVAILABLE) as error:
                    logger.warning("outcome stream read failed (%s); retrying", error)
                    await asyncio.sleep(0.5)
                    continue
                for stream, entries in found:
                    for entry_id, fields in entries:
                        positions[stream] = entry_id
                        self._deliver(fields.get("outcome"))
        finally:
            await reads.aclose()

    def _deliver(self, raw: str | None) -> None:
        if not raw:
            return
        try:
            outcome = Outcome.model_validate_json(raw)
        except ValueError:
            logger.warning("unreadable outcome %r", raw[:200])
            return
        future = self._waiting.get(outcome.command_id)
        if future is not None and not future.done():
            future.set_result(outcome)
