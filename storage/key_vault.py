"""The author key vault: one AES key per author, stored wrapped under the server secret.

Kept apart from the log; deleting an author's key (crypto-shredding) makes every sealed field
of that author unreadable while the log itself never changes.
"""

import base64
import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis.asyncio.client import Pipeline

from events.personal import new_author_key
from storage.connection import Store
from storage.keys import author_key

CACHE_SECONDS = 30.0
MAX_HELD = 50_000
EVICT_PER_CALL = 8  # more than one is held per call, so the cache shrinks back


@dataclass(frozen=True)
class KeyRequest:
    """A new key offered for an author: stored unless they have one (SET NX GET)."""

    actor_id: str
    key: str  # where it is kept
    fresh: bytes
    wrapped: str

    def queue(self, pipe: Pipeline) -> None:
        pipe.set(self.key, self.wrapped, nx=True, get=True)


class AuthorKeyVault:
    """Keys are cached briefly per process; an erasure reaches every process within
    CACHE_SECONDS (and at once where the process sees the AuthorErased event)."""

    def __init__(self, redis: Store, secret: str) -> None:
        self._redis = redis
        self._wrapping = AESGCM(hashlib.sha256(b"commentstream-vault:" + secret.encode()).digest())
        self._cache: dict[str, tuple[float, bytes]] = {}

    async def key_for_writing(self, actor_id: str) -> bytes:
        """The author's key, created on first use."""
        cached = self._cached(actor_id)
        if cached is not None:
            return cached
        request = self.key_request(actor_id)
        existing = await self._redis.set(request.key, request.wrapped, nx=True, get=True)
        return self.key_reply(request, existing)

    def key_request(self, actor_id: str) -> KeyRequest:
        """The author's key as one command for a caller's own round trip (the processor sends
        it with its state read): store a new key unless there is one, get the one there was."""
        fresh = new_author_key()
        return KeyRequest(actor_id, author_key(actor_id), fresh, self._wrap(actor_id, fresh))

    def key_reply(self, request: KeyRequest, existing: str | bytes | None) -> bytes:
        """The key a `key_request` gave: the new one, or the one that was there; now held."""
        key = request.fresh if existing is None else self._unwrap(request.actor_id, existing)
        self._hold(request.actor_id, key, time.monotonic())
        return key

    def holds(self, actor_id: str) -> bool:
        return self._cached(actor_id) is not None

    async def key_for_reading(self, actor_id: str) -> bytes | None:
        """The author's key, or None when it never existed or was erased."""
        cached = self._cached(actor_id)
        if cached is not None:
            return cached
        wrapped = await self._redis.get(author_key(actor_id))
        if wrapped is None:
            self._cache.pop(actor_id, None)
            return None
        key = self._unwrap(actor_id, wrapped)
        self._hold(actor_id, key, time.monotonic())
        return key

    def uncached(self, actor_ids: Iterable[str]) -> list[str]:
        """Which of these authors' keys are not held: a projector fetches them with the rest of
        its batch's reads, in one round trip."""
        return sorted({actor_id for actor_id in actor_ids if self._cached(actor_id) is None})

    def remember_wrapped(self, actor_ids: list[str], wrapped: list[str | bytes | None]) -> None:
        """Hold the keys fetched for `uncached` authors (None: no key, nothing held)."""
        now = time.monotonic()
        for actor_id, value in zip(actor_ids, wrapped, strict=True):
            if value is not None:
                self._hold(actor_id, self._unwrap(actor_id, value), now)

    async def erase(self, actor_id: str) -> bool:
        """Delete the author's key for good; True if there was one."""
        self.forget(actor_id)
        return bool(await self._redis.delete(author_key(actor_id)))

    def _hold(self, actor_id: str, key: bytes, now: float) -> None:
        """Cache a key. Entries stay in the order they were held, oldest first, so the expired
        ones (and, past MAX_HELD, the oldest) leave from the front: a long-running service sees
        a new anonymous author with almost every post, and the cache must not grow with them."""
        self._cache.pop(actor_id, None)
        self._cache[actor_id] = (now, key)
        for oldest, (held_at, _) in list(islice(self._cache.items(), EVICT_PER_CALL)):
            if now - held_at < CACHE_SECONDS and len(self._cache) <= MAX_HELD:
                break
            del self._cache[oldest]

    def _cached(self, actor_id: str) -> bytes | None:
        cached = self._cache.get(actor_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        return None

    def forget(self, actor_id: str) -> None:
        self._cache.pop(actor_id, None)

    def _wrap(self, actor_id: str, key: bytes) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(
            nonce + self._wrapping.encrypt(nonce, key, actor_id.encode())
        ).decode()

    def _unwrap(self, actor_id: str, wrapped: bytes | str) -> bytes:
        raw = base64.b64decode(wrapped)
        return self._wrapping.decrypt(raw[:12], raw[12:], actor_id.encode())

    async def export_wrapped(self) -> dict[str, str]:
        """Every author key, still wrapped under the server secret (for a move to a new server
        with the same COMMENTSTREAM_SECRET)."""
        prefix = author_key("")
        wrapped: dict[str, str] = {}
        async for key in self._redis.scan_iter(match=prefix + "*", count=1000):
            value = await self._redis.get(key)
            if value is not None:
                wrapped[key[len(prefix) :]] = value
        return wrapped

    async def import_wrapped(self, wrapped: dict[str, str]) -> int:
        """Store keys from `export_wrapped`; a key already present is kept as it is."""
        stored = 0
        for actor_id, value in wrapped.items():
            self._unwrap(actor_id, value)  # refuses keys wrapped under another secret
            stored += bool(await self._redis.set(author_key(actor_id), value, nx=True))
        return stored
