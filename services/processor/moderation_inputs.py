"""What the processor gathers for the decider's moderation rules: the site's policy, the
fingerprint of a new comment, in `first_time` mode whether its author was approved before,
and whether the author is banned (identity, email or client address)."""

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from events.commands import BANS_THREAD
from events.moderation import ModerationPolicy, ban_key, fingerprint_key
from events.spam_score import SpamModel
from projections.moderation.reading import ModerationReader
from projections.names import MODERATION
from storage.connection import Store
from storage.keys import PartitionKeys, partition_of, spam_model, spam_model_trained
from storage.many_keys import get_each

ApprovedBefore = Callable[[str, str], Awaitable[bool]]  # (site, actor id) -> bool
GENERATION_CACHE_SECONDS = 1.0


async def _never(site: str, actor_id: str) -> bool:
    return False


class BannedKeys:
    """Where a site's banned subjects are (the moderation model's active generation in the
    partition of the site's `~bans` thread), the generation remembered for a second."""

    def __init__(self, redis: Store | None, partitions: int) -> None:
        self._redis = redis
        self._partitions = partitions
        self._generations: dict[int, tuple[float, int]] = {}

    async def banned(self, site: str) -> str | None:
        if self._redis is None:
            return None
        keys = PartitionKeys(partition_of(site, BANS_THREAD, self._partitions))
        cached = self._generations.get(keys.p)
        now = time.monotonic()
        if cached is None or now - cached[0] > GENERATION_CACHE_SECONDS:
            generation = int(await self._redis.get(keys.active_generation(MODERATION)) or 0)
            cached = (now, generation)
            self._generations[keys.p] = cached
        return keys.projection(MODERATION, cached[1]).banned(site)


SPAM_MODEL_CHECK_SECONDS = 5.0


class SpamModels:
    """Each site's trained spam model, reloaded when `spam train` makes a new one (looked for
    every SPAM_MODEL_CHECK_SECONDS)."""

    def __init__(self, redis: Store | None) -> None:
        self._redis = redis
        self._models: dict[str, tuple[float, str | None, SpamModel | None]] = {}

    async def of(self, site: str) -> SpamModel | None:
        if self._redis is None:
            return None
        now = time.monotonic()
        checked, trained, model = self._models.get(site, (-math.inf, None, None))
        if now - checked < SPAM_MODEL_CHECK_SECONDS:
            return model
        current = await self._redis.get(spam_model_trained(site))
        if current != trained:
            raw = await self._redis.get(spam_model(site)) if current else None
            model = SpamModel.model_validate_json(raw) if raw else None
        self._models[site] = (now, current, model)
        return model


@dataclass(frozen=True)
class ModerationInputs:
    policy_of: Callable[[str], ModerationPolicy]
    fingerprint_key: bytes
    approved_before: ApprovedBefore = _never
    ban_key: bytes = b""
    banned_keys: BannedKeys = field(default_factory=lambda: BannedKeys(None, 1))
    spam_models: SpamModels = field(default_factory=lambda: SpamModels(None))

    @classmethod
    def defaults(cls, secret: str = "") -> "ModerationInputs":
        """Every site on the default policy (tools and tests that configure no sites)."""
        return cls(
            lambda site: ModerationPolicy(), fingerprint_key(secret), ban_key=ban_key(secret)
        )


def approved_before_lookup(redis: Store, partitions: int) -> ApprovedBefore:
    """Whether an author has an approved comment on the site, from the moderation read model
    (its active generation in every partition)."""
    reader = ModerationReader(redis)
    every = [PartitionKeys(p) for p in range(partitions)]

    async def approved_before(site: str, actor_id: str) -> bool:
        generations = await get_each(redis, [keys.active_generation(MODERATION) for keys in every])
        models = [
            keys.projection(MODERATION, int(generation or 0))
            for keys, generation in zip(every, generations, strict=True)
        ]
        history = await reader.history(models, site, [actor_id])
        return history[actor_id]["approved"] > 0

    return approved_before
