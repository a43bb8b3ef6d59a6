"""The log's signer: follows every partition's log and, every `digest_seconds` (or as soon as
`digest_events` are new), appends a digest of it signed with the deployment's Ed25519 key
(events/digest.py). Runs in the processor; several processors may run it, the digest stream
takes one digest per step (storage/digests.py)."""

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from events.digest import (
    GENESIS_LOG_HASH,
    Digest,
    PartitionMark,
    folded,
    public_key_hex,
    sign,
    signature_holds,
)
from events.log_entry import UnreadableEntry, stored_hash
from storage.connection import Store
from storage.digests import append_digest, latest_digest
from storage.failures import STORE_UNAVAILABLE
from storage.keys import PartitionKeys
from storage.log_reader import PAGE as LOG_PAGE
from storage.log_reader import log_entries
from storage.scripts import Scripts

logger = logging.getLogger("commentstream.signer")
POLL_SECONDS = 1.0


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def create_signing_key(path: Path) -> None:
    """A new Ed25519 key in PEM at `path` (readable by its owner only), if there is none."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    path.touch(mode=0o600)
    path.write_bytes(pem)


def entry_hash(fields: dict[str, str]) -> str:
    """The hash an entry folds into its partition's log hash ("" for an unreadable one)."""
    try:
        return stored_hash(fields)
    except UnreadableEntry:
        return ""


class LogSigner:
    def __init__(
        self,
        redis: Store,
        partitions: int,
        key: Ed25519PrivateKey,
        every_seconds: float,
        every_events: int,
    ) -> None:
        self._redis = redis
        self._scripts = Scripts(redis)
        self._partitions = partitions
        self._key = key
        self._public = public_key_hex(key)
        self._every_seconds = every_seconds
        self._every_events = every_events
        self._signed_events = 0  # events covered by the last digest

    async def run(self) -> None:
        """Sign forever; a store error pauses it and it starts again from the last digest."""
        while True:
            try:
                await self._sign_forever()
            except STORE_UNAVAILABLE as error:
                logger.warning("digests paused: %s", error)
                await asyncio.sleep(POLL_SECONDS)
            except Exception:  # a signer that died quietly would leave the log unsigned
                logger.exception("digests stopped by an error; starting again from the last")
                await asyncio.sleep(self._every_seconds)

    async def _sign_forever(self) -> None:
        seq, previous, marks = await self._resume()
        signed_at = time.monotonic()
        while True:
            behind = False  # a full page: more to read before sleeping
            for p in range(self._partitions):
                async for page in log_entries(
                    self._redis, PartitionKeys(p), after=marks[p].position
                ):
                    marks[p] = folded(marks[p], [(i, entry_hash(f)) for i, f in page])
                    behind = behind or len(page) >= LOG_PAGE
            pending = sum(m.events for m in marks) - self._signed_events
            due = time.monotonic() - signed_at >= self._every_seconds
            if pending and (due or pending >= self._every_events):
                digest = Digest(
                    seq=seq + 1,
                    at=datetime.now(UTC),
                    previous=previous,
                    key=self._public,
                    partitions=tuple(marks),
                )
                if not await append_digest(self._scripts, digest, sign(digest, self._key)):
                    logger.info("another signer appended digest %d first; resuming", seq + 1)
                    seq, previous, marks = await self._resume()
                    continue
                seq, previous, signed_at = digest.seq, digest.body_hash(), time.monotonic()
                self._signed_events = sum(m.events for m in marks)
            if not behind:
                # Under load too: a digest is due every few seconds, and what came meanwhile is
                # read in a few big pages rather than a round trip per partition per event.
                await asyncio.sleep(POLL_SECONDS)

    async def _resume(self) -> tuple[int, str, list[PartitionMark]]:
        """Where the last digest left off (the start of the log when there is none). A last
        digest not signed by this key stops the signing (loudly): its chain is not ours."""
        last = await latest_digest(self._redis)
        while last is not None and not signature_holds(last.digest, last.signature, self._public):
            logger.critical(
                "the last digest (%s) is not signed by this key: not signing", last.position
            )
            await asyncio.sleep(self._every_seconds)
            last = await latest_digest(self._redis)
        if last is None:
            self._signed_events = 0
            return 0, GENESIS_LOG_HASH, [PartitionMark() for _ in range(self._partitions)]
        marks = list(last.digest.partitions)
        marks += [PartitionMark() for _ in range(self._partitions - len(marks))]
        self._signed_events = sum(m.events for m in marks)
        return last.digest.seq, last.digest.body_hash(), marks
