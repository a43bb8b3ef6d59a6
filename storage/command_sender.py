"""Publish a command and wait for its outcome, or report it queued (HTTP 202)."""

import asyncio
import contextlib

from events.commands import Command
from events.outcomes import Outcome
from storage.connection import Store
from storage.event_store import EventStore, enqueue_command, recorded_outcome
from storage.failures import STORE_UNAVAILABLE
from storage.outcome_listener import OutcomeListener
from storage.stream_entries import COMMAND_FIELD


class CommandSender:
    def __init__(
        self,
        redis: Store,
        store: EventStore,
        listener: OutcomeListener,
        timeout_seconds: float,
        queued_ttl_seconds: int,
    ) -> None:
        self._redis = redis
        self._store = store
        self._listener = listener
        self._timeout = timeout_seconds
        self._queued_ttl = queued_ttl_seconds

    async def send(self, command: Command, *, fresh_id: bool = False) -> Outcome | None:
        """The command's outcome, or None when it is queued but not yet processed.

        Raises CommandStreamMissing when the partition's command stream is gone (a wipe).

        `fresh_id`: the command id was made here just now, so it cannot have an outcome yet
        (the append script would find a repeated id anyway; this only saves a round trip)."""
        keys = self._store.keys_for(command.site, command.thread)
        if not fresh_id:
            first = await self._redis.get(keys.outcome(command.command_id))
            if first:
                return recorded_outcome(first, command.command_id)
        future = self._listener.expect(command.command_id)
        try:
            await enqueue_command(self._redis, keys, {COMMAND_FIELD: command.model_dump_json()})
            return await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except TimeoutError:
            recorded = await self._redis.get(keys.outcome(command.command_id))
            if recorded:
                return recorded_outcome(recorded, command.command_id)
            # The command is queued whatever happens to this mark (a store at `maxmemory` refuses
            # it): it is answered as queued, never as refused.
            with contextlib.suppress(*STORE_UNAVAILABLE):
                await self._redis.set(keys.queued(command.command_id), "1", ex=self._queued_ttl)
            return None
        finally:
            self._listener.forget(command.command_id)

    async def status(self, command_id: str) -> Outcome | str | None:
        """The outcome, "pending" if queued and not yet processed, or None if unknown."""
        outcome = await self._store.find_outcome(command_id)
        if outcome is not None:
            return outcome
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys in self._store.all_partitions():
                pipe.exists(keys.queued(command_id))
            queued = await pipe.execute()
        return "pending" if any(queued) else None
