"""Fold the partitions of a new generation in several processes side by side.

Partitions are independent (each has its own log, checkpoint and keys), so a rebuild splits
them over worker processes, each with its own event loop and Redis connection: folding is
CPU-bound Python, and one process uses one core. Workers count the entries they fold in one
shared counter, which the caller turns into progress.
"""

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized

from services.settings import Settings
from storage.keys import PartitionKeys
from storage.log_reader import close_client

PROGRESS_SECONDS = 0.2
Progress = Callable[[int], None]
_folded: "Synchronized[int] | None" = None  # in a worker: the shared counter


@dataclass(frozen=True)
class Workers:
    """Build in `settings.replay_workers` processes (0: one per core) when the log holds at
    least `min_events` entries; below that, starting processes costs more than it saves."""

    settings: Settings
    min_events: int = 20_000

    @property
    def processes(self) -> int:
        return self.settings.replay_workers or os.cpu_count() or 1


async def build_in_workers(
    workers: Workers,
    name: str,
    generation: int,
    todo: dict[int, str | None],
    progress: Progress,
) -> None:
    """Fold partitions `todo` (each up to its `until`, None for the end of the log) of
    projection `name` into `generation`, `workers.processes` partitions at a time."""
    context = multiprocessing.get_context("spawn")
    folded = context.Value("q", 0)
    reported = 0
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(
        max_workers=min(workers.processes, len(todo)),
        mp_context=context,
        initializer=_remember_counter,
        initargs=(folded,),
    ) as pool:
        jobs = [
            loop.run_in_executor(pool, _build_one, workers.settings, name, generation, p, until)
            for p, until in todo.items()
        ]
        running = asyncio.gather(*jobs)
        while not running.done():
            await asyncio.wait([running], timeout=PROGRESS_SECONDS)
            current = folded.value
            if current > reported:
                progress(current - reported)
                reported = current
        await running


def _remember_counter(folded: "Synchronized[int]") -> None:
    global _folded
    _folded = folded


def _count(n: int) -> None:
    if _folded is not None:
        with _folded.get_lock():
            _folded.value += n


def _build_one(settings: Settings, name: str, generation: int, p: int, until: str | None) -> None:
    asyncio.run(_build_partition(settings, name, generation, p, until))


async def _build_partition(
    settings: Settings, name: str, generation: int, p: int, until: str | None
) -> None:
    # Imported here: this runs in a fresh (spawned) process.
    from projections.registry import PROJECTIONS
    from services.projector.runner import ProjectorRunner
    from storage.connection import connect
    from storage.key_vault import AuthorKeyVault

    redis = connect(settings.store)
    try:
        projection = PROJECTIONS[name](redis, AuthorKeyVault(redis, settings.secret))
        runner = ProjectorRunner(redis, projection, generation)
        await runner.fold_log(PartitionKeys(p), until, _count)
    finally:
        await close_client(redis)
