"""What the processor gathers for the decider's moderation rules: the site's policy, the
fingerprint of a new comment and, in `first_time` mode, whether its author was approved before."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from events.moderation import ModerationPolicy

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
