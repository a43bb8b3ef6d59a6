"""Signed digests of the log: tamper evidence that survives a rewrite of the hash chains.

Each partition's entries fold, in log order, into one running hash, the partition's `log_hash`:
`sha256(previous log_hash, position, entry hash)`, the entry hash being its thread-chain hash
(v2 `h`, v1 `hash`). A digest holds every partition's position and log hash at one moment,
is chained to the digest before it, and is signed with an Ed25519 key kept outside Redis.
Someone who can write to Redis can rewrite an event, recompute every later hash and replay the
read models, but cannot sign: a digest kept outside (a file, a mail) tells the rewrite.
"""

import hashlib
from datetime import datetime

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict

GENESIS_LOG_HASH = "0" * 64
START_POSITION = "0-0"


def log_hash_step(previous: str, position: str, entry_hash: str) -> str:
    """The partition's log hash after one more entry."""
    return hashlib.sha256(f"{previous}\n{position}\n{entry_hash}".encode()).hexdigest()


class PartitionMark(BaseModel):
    """Where a partition's log was when a digest was made, and what it held up to there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    position: str = START_POSITION  # the last entry covered
    events: int = 0
    log_hash: str = GENESIS_LOG_HASH


class Digest(BaseModel):
    """One signed digest (its `body` is what the signature covers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    at: datetime
    previous: str  # sha256 of the previous digest's body; GENESIS_LOG_HASH for the first
    key: str  # the signer's Ed25519 public key, hex
    partitions: tuple[PartitionMark, ...]

    def body(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)

    def body_hash(self) -> str:
        return hashlib.sha256(self.body()).hexdigest()


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def sign(digest: Digest, key: Ed25519PrivateKey) -> str:
    """The hex Ed25519 signature of the digest's body."""
    return key.sign(digest.body()).hex()


def signature_holds(digest: Digest, signature: str, public_key: str | None = None) -> bool:
    """True when `signature` is the digest's, by `public_key` (hex; default: the digest's own)."""
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key or digest.key))
    try:
        key.verify(bytes.fromhex(signature), digest.body())
    except (InvalidSignature, ValueError):
        return False
    return True


def folded(mark: PartitionMark, entries: list[tuple[str, str]]) -> PartitionMark:
    """`mark` moved past `entries`, (position, entry hash) in log order."""
    log_hash = mark.log_hash
    for position, entry_hash in entries:
        log_hash = log_hash_step(log_hash, position, entry_hash)
    if not entries:
        return mark
    return PartitionMark(
        position=entries[-1][0], events=mark.events + len(entries), log_hash=log_hash
    )
