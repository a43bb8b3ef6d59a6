"""A bounded, single-reader buffer: what the live hub has handed one reader, in order.

asyncio.Queue would do, but a gateway holds thousands of them, and every object each open
stream keeps is walked by each full garbage collection (the pause every reader waits for). A
mailbox is a deque and, while its reader waits, one future.
"""

import asyncio
from collections import deque
from typing import Generic, TypeVar

Item = TypeVar("Item")


class Mailbox(Generic[Item]):
    __slots__ = ("_closed", "_items", "_limit", "_waiter")

    def __init__(self, limit: int) -> None:
        self._items: deque[Item] = deque()
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    def offer(self, item: Item) -> bool:
        """Add `item` for the reader; False (and nothing added) when the buffer is full."""
        if self._closed:
            return True  # the reader is gone: nothing to keep for it
        if len(self._items) >= self._limit:
            return False
        self._items.append(item)
        self._wake()
        return True

    def close(self) -> None:
        """Drop what is buffered; the reader's next `get` gives None."""
        self._closed = True
        self._items.clear()
        self._wake()

    async def get(self) -> Item | None:
        """The next item, waiting for one; None once the mailbox is closed."""
        while not self._items:
            if self._closed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def __len__(self) -> int:
        return len(self._items)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
