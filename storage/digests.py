"""The digest stream `cs:digests`: append a signed digest after the last one, read them back."""

from dataclasses import dataclass

from events.digest import Digest
from storage.connection import Store
from storage.keys import DIGESTS
from storage.scripts import Scripts


@dataclass(frozen=True)
class SignedDigest:
    digest: Digest
    signature: str
    position: str  # its entry id in the digest stream


async def append_digest(scripts: Scripts, digest: Digest, signature: str) -> bool:
    """Append `digest` if the last one in the stream is the one it follows (seq - 1)."""
    appended = await scripts.append_digest(
        keys=[DIGESTS], args=[digest.seq - 1, digest.seq, digest.body(), signature]
    )
    return bool(appended)


async def latest_digest(redis: Store) -> SignedDigest | None:
    found = await redis.xrevrange(DIGESTS, count=1)
    return _signed(found[0]) if found else None


async def all_digests(redis: Store) -> list[SignedDigest]:
    return [_signed(entry) for entry in await redis.xrange(DIGESTS)]


def _signed(entry: tuple[str, dict[str, str]]) -> SignedDigest:
    entry_id, fields = entry
    return SignedDigest(Digest.model_validate_json(fields["digest"]), fields["signature"], entry_id)
