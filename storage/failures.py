"""When the store cannot take a request now: Redis down or restarting, at `maxmemory`, a replica
promoted or a cluster slot moving. Such a failure is waited out and the same work retried; it
is never a reason to refuse a command or to park an event."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import (
    ClusterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterUnreachableError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("commentstream.store")

STORE_UNREACHABLE: tuple[type[Exception], ...] = (
    RedisConnectionError,  # also BusyLoadingError: a restarted server loading its data
    RedisTimeoutError,
    ReadOnlyError,  # a write that reached a master just demoted to a replica
    TryAgainError,  # a cluster script whose keys are half way through a migration
    ClusterDownError,  # also MasterDownError: a master failed, no replica has taken over yet
    RedisClusterUnreachableError,  # no node of the cluster answers (redis-py gave up)
    SlotNotCoveredError,  # no node serves the slot (a failover or resharding under way)
)
"""The store does not answer or cannot serve the key now (on one server or a cluster)."""

STORE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    *STORE_UNREACHABLE,
    OutOfMemoryError,  # `maxmemory` reached (noeviction): writes refused until memory is freed
    OSError,
)
FIRST_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 2.0
T = TypeVar("T")


async def until_the_store_takes_it(
    attempt: Callable[[], Awaitable[T]],
    what: str,
    while_waiting: Callable[[], Awaitable[object]] | None = None,
    max_delay: float = MAX_DELAY_SECONDS,
) -> T:
    """`attempt()`, tried again with a growing delay (up to `max_delay`) for as long as the
    store is unavailable; `while_waiting` runs before each new try (say, to keep a claim on
    what is being retried)."""
    delay = FIRST_DELAY_SECONDS
    while True:
        try:
            return await attempt()
        except STORE_UNAVAILABLE as error:
            logger.warning("%s: the store cannot take it now (%s); retrying", what, error)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
        if while_waiting is not None:
            with contextlib.suppress(*STORE_UNAVAILABLE):
                await while_waiting()
