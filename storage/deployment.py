"""Noticing a wiped server: every process checks the deployment marker it started with.

The first process of a new deployment writes `cs:deployment` (a random id). Every process
remembers it, and `commentstream up` passes it to its children (COMMENTSTREAM_DEPLOYMENT), so
a restarted child refuses a server whose marker differs. If the marker vanishes (the server
came back empty, or another server took its place), nothing is silently recreated: processor
and projectors stop with exit code 3, the gateway refuses writes and /readyz says why.
"""

import asyncio
import contextlib
import logging
import uuid

from storage.connection import Store
from storage.key_upgrade import refuse_old_keys
from storage.keys import DEPLOYMENT

logger = logging.getLogger("commentstream.deployment")
EXIT_WIPED = 3
CHECK_SECONDS = 1.0
WIPED_MESSAGE = (
    "the Redis server no longer holds this deployment (marker {marker!r} is gone or changed): "
    "it was wiped or replaced. Refusing to go on rather than start an empty log under the same "
    "name. Restore the data, or start a new deployment deliberately."
)


class StoreWiped(RuntimeError):
    pass


class DeploymentGuard:
    def __init__(self, redis: Store, expected: str | None, partitions: int) -> None:
        self._redis = redis
        self.marker = expected
        self.wiped = False
        self._partitions = partitions

    async def establish(self) -> str:
        """Adopt the server's marker (creating it for a new deployment), or refuse it; refuse a
        server whose keys still have their old names (storage/key_upgrade.py)."""
        await refuse_old_keys(self._redis, self._partitions)
        found = await self._redis.get(DEPLOYMENT)
        if self.marker is not None and found != self.marker:
            self._refuse()
            raise StoreWiped(WIPED_MESSAGE.format(marker=self.marker))
        if found is None:
            await self._redis.set(DEPLOYMENT, uuid.uuid4().hex, nx=True)
            found = await self._redis.get(DEPLOYMENT)
        self.marker = found
        return str(found)

    async def check(self) -> bool:
        """True while the server still holds our deployment (a Redis error is not a wipe)."""
        if self.wiped:
            return False
        with contextlib.suppress(Exception):
            if await self._redis.get(DEPLOYMENT) != self.marker:
                self._refuse()
        return not self.wiped

    async def watch(self, on_wiped: "asyncio.Event | None" = None) -> None:
        while await self.check():
            await asyncio.sleep(CHECK_SECONDS)
        if on_wiped is not None:
            on_wiped.set()

    def _refuse(self) -> None:
        if not self.wiped:
            logger.critical(WIPED_MESSAGE.format(marker=self.marker))
        self.wiped = True
