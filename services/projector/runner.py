"""Feed a projection batches of log entries, from its checkpoint, and commit each batch with the
new checkpoint in one script that first checks the checkpoint has not moved, so a crash or a
duplicate delivery never counts twice. Failures are handled here: an event that cannot be
decoded or folded is parked in the projection's dead-letter stream; a store that cannot take the
commit now (down, at `maxmemory`) is waited for; and since FastStream never redelivers a batch
whose handler raised, a batch that failed otherwise is folded again from the log before the next.
"""

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from events.log_entry import EntryFields, decode_entry, entry_type
from projections.projection import Projection, dead_letter
from storage.connection import Store
from storage.failures import until_the_store_takes_it
from storage.keys import PartitionKeys, ProjectionKeys
from storage.log_reader import log_entries
from storage.read_model_writes import Commit, WriteBatch, commit, commit_together
from storage.scripts import Scripts
from storage.stream_entries import is_after

logger = logging.getLogger("commentstream.projector")


class ProjectorRunner:
    """Feeds batches of log entries to one projection and commits them with the checkpoint.

    Live (no `generation`), it writes the generation readers use and follows a switch made by a
    replay; given a `generation`, it builds that one, whatever readers use.
    """

    def __init__(self, redis: Store, projection: Projection, generation: int | None = None) -> None:
        self.redis = redis
        self.projection = projection
        self.building = generation
        self._scripts = Scripts(redis)
        self.positions: dict[int, tuple[ProjectionKeys, str | None]] = {}
        self._behind: set[int] = set()  # partitions whose last batch failed (see `process`)

    async def load_checkpoint(self, keys: PartitionKeys) -> str | None:
        """Read where this partition's generation stands (following the active one if live)."""
        generation = self.building
        if generation is None:
            generation = int(
                await self.redis.get(keys.active_generation(self.projection.name)) or 0
            )
        target = keys.projection(self.projection.name, generation)
        checkpoint = await self.redis.get(target.checkpoint)
        self.positions[keys.p] = (target, checkpoint)
        return checkpoint

    async def fold_log(
        self,
        keys: PartitionKeys,
        until: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Fold partition `keys.p`'s log from the stored checkpoint up to `until` (None: its
        end), page by page; `progress` hears how many entries each page held."""
        after = await self.load_checkpoint(keys)
        async for page in log_entries(self.redis, keys, after, until):
            await self.process(keys, page)
            if progress is not None:
                progress(len(page))

    async def process(
        self, keys: PartitionKeys, entries: Iterable[tuple[str, EntryFields]]
    ) -> None:
        """Fold one batch of (entry id, stored envelope) of partition `keys.p`, in log order;
        returns once committed. While the store is unavailable (down, at `maxmemory`), the same
        batch is tried again. A batch that failed otherwise raises, and the partition is then
        behind: the next batch first folds what the failed one held, from the log, so that no
        event is ever passed over (a subscriber does not deliver a batch twice)."""
        entries = list(entries)
        if not entries:
            return
        try:
            if keys.p in self._behind:
                await self._catch_up(keys, until=entries[-1][0])
            else:
                await self._commit_batch(keys, entries)
        except Exception:
            self._behind.add(keys.p)
            raise

    async def _catch_up(self, keys: PartitionKeys, until: str) -> None:
        after = await until_the_store_takes_it(
            lambda: self.load_checkpoint(keys), f"{self.projection.name}: checkpoint"
        )
        async for page in log_entries(self.redis, keys, after, until):
            await self._commit_batch(keys, page)
        self._behind.discard(keys.p)

    async def _commit_batch(
        self, keys: PartitionKeys, entries: Sequence[tuple[str, EntryFields]]
    ) -> None:
        await until_the_store_takes_it(
            lambda: self._process_once(keys, entries),
            f"{self.projection.name}: partition {keys.p}",
        )

    async def process_together(
        self, batches: Sequence[tuple[PartitionKeys, Sequence[tuple[str, EntryFields]]]]
    ) -> None:
        """`process` a batch of each of several partitions, their commits sent together in one
        round trip. A partition whose batch fails is behind (as in `process`) and is logged,
        not raised: the others' batches are committed all the same."""
        planned: list[tuple[PartitionKeys, Sequence[tuple[str, EntryFields]], Commit]] = []
        for keys, entries in batches:
            if not entries:
                continue
            if keys.p in self._behind:
                await self._logged(self.process(keys, entries), keys)
                continue
            try:
                plan = await self._plan_when_the_store_can(keys, entries)
            except Exception:
                self._behind.add(keys.p)
                logger.exception("%s: partition %d failed", self.projection.name, keys.p)
                continue
            if plan is not None:
                planned.append((keys, entries, plan))
        if not planned:
            return
        results = await until_the_store_takes_it(
            lambda: commit_together(
                self.redis,
                self._scripts,
                [plan for _, _, plan in planned],
                live=self.building is None,
            ),
            f"{self.projection.name}: commit",
        )
        for (keys, entries, plan), committed in zip(planned, results, strict=True):
            if committed == 1:
                self.positions[keys.p] = (plan.keys, plan.new_checkpoint)
            else:
                self._reloading(keys, committed)
                await self.load_checkpoint(keys)
                await self._logged(self.process(keys, entries), keys)

    async def _plan_when_the_store_can(
        self, keys: PartitionKeys, entries: Sequence[tuple[str, EntryFields]]
    ) -> Commit | None:
        return await until_the_store_takes_it(
            lambda: self._plan(keys, entries), f"{self.projection.name}: partition {keys.p}"
        )

    async def _logged(self, processing: Awaitable[None], keys: PartitionKeys) -> None:
        try:
            await processing
        except Exception:
            logger.exception("%s: partition %d failed", self.projection.name, keys.p)

    async def _process_once(
        self, keys: PartitionKeys, entries: Sequence[tuple[str, EntryFields]]
    ) -> None:
        while True:
            plan = await self._plan(keys, entries)
            if plan is None:
                return
            committed = await commit(
                self.redis,
                self._scripts,
                plan.keys,
                plan.expected,
                plan.new_checkpoint,
                plan.batch,
                live=self.building is None,
            )
            if committed == 1:
                self.positions[keys.p] = (plan.keys, plan.new_checkpoint)
                return
            self._reloading(keys, committed)
            await self.load_checkpoint(keys)

    async def _plan(
        self, keys: PartitionKeys, entries: Sequence[tuple[str, EntryFields]]
    ) -> Commit | None:
        """The writes that fold what of `entries` is after the checkpoint, with the checkpoint
        they move; None when nothing is after it."""
        if keys.p not in self.positions:
            await self.load_checkpoint(keys)
        target, checkpoint = self.positions[keys.p]
        fresh = entries[_first_after(entries, checkpoint) :]
        if not fresh:
            return None
        batch = WriteBatch()
        envelopes = []
        wanted = self.projection.event_types
        for entry_id, fields in fresh:
            if wanted is not None:
                kind = entry_type(fields)
                if kind is not None and kind not in wanted:
                    continue  # not of interest here, known without parsing it
            try:
                envelope = decode_entry(fields, entry_id)
                if wanted is not None and envelope.type not in wanted:
                    continue
                envelope.event()
                envelopes.append(envelope)
            except Exception as error:
                dead_letter(batch, target, entry_id, f"undecodable: {error}")
        planned = await self.projection.plan(target, envelopes) if envelopes else WriteBatch()
        batch.writes.extend(planned.writes)
        return Commit(target, checkpoint, fresh[-1][0], batch)

    def _reloading(self, keys: PartitionKeys, committed: int) -> None:
        logger.info(
            "%s: partition %d %s; reloading",
            self.projection.name,
            keys.p,
            "switched generation" if committed == -1 else "checkpoint moved",
        )


def _first_after(entries: Sequence[tuple[str, Any]], checkpoint: str | None) -> int:
    """The index of the first entry after `checkpoint` (entries are in log order)."""
    for index, (entry_id, _) in enumerate(entries):
        if is_after(entry_id, checkpoint):
            return index
    return len(entries)
