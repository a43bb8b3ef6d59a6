"""What the processor gathers for the decider's moderation rules: the site's policy, the
fingerprint of a new comment and, in `first_time` mode, whether its author was approved before."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from events.moderation import ModerationPolicy
from projections.moderation.reading import ModerationReader
from projections.names import MODERATION
from storage.keys import PartitionKeys

ApprovedBefore = Callable[[str, str], Awaitable[bool]]  # (site, actor id) -> bool


async def _never(site: str, actor_id: str) -> bool:
    return False


@dataclass(frozen=True)
class ModerationInputs:
    policy_of: Callable[[str], ModerationPolicy]
    fingerprint_key: bytes
    approved_before: ApprovedBefore = _never

    @classmethod
    def defaults(cls, secret: str = "") -> "ModerationInputs":
        """Every site on the default policy (tools and tests that configure no sites)."""
        return cls(lambda site: ModerationPolicy(), fingerprint_key(secret))


def fingerprint_key(secret: str) -> bytes:
    """The key of comment fingerprints, derived from the server secret (never stored)."""
    return hashlib.sha256(b"commentstream-fingerprint:" + secret.encode()).digest()


def approved_before_lookup(redis: Redis, partitions: int) -> ApprovedBefore:
    """Whether an author has an approved comment on the site, from the moderation read model
    (its active generation in every partition)."""
    reader = ModerationReader(redis)
    every = [PartitionKeys(p) for p in range(partitions)]

    async def approved_before(site: str, actor_id: str) -> bool:
        generations = await redis.mget([keys.active_generation(MODERATION) for keys in every])
        models = [
            keys.projection(MODERATION, int(generation or 0))
            for keys, generation in zip(every, generations, strict=True)
        ]
        history = await reader.history(models, site, [actor_id])
        return history[actor_id]["approved"] > 0

    return approved_before
