"""Thread pages recently served to readers without an identity, kept in the gateway process.

A page is stored with the checkpoints of both projections of its partition when it was built,
and served again only while both are unchanged: any event folded into that partition since
(a comment, an edit, a like) makes it stale. So a read never shows less than a fresh build
would, and a busy partition simply misses more often. Pages for a known caller (their likes,
their own comments) are never cached.
"""

from collections import OrderedDict
from collections.abc import Hashable

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class PageCache:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._pages: OrderedDict[Hashable, tuple[Hashable, bytes]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, built_at: Hashable) -> bytes | None:
        """The page stored under `key`, if it was built at the same checkpoints."""
        found = self._pages.get(key)
        if found is None or found[0] != built_at:
            self.misses += 1
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        return found[1]

    def put(self, key: Hashable, built_at: Hashable, page: bytes) -> None:
        if len(page) > self._max_bytes // 4:
            return
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        self._pages[key] = (built_at, page)
        self._bytes += len(page)
        while self._bytes > self._max_bytes:
            _, (_, evicted) = self._pages.popitem(last=False)
            self._bytes -= len(evicted)
