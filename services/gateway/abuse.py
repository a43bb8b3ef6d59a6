"""Abuse controls: token buckets per IP and per identity, the client's real address behind
trusted proxies only, and the bot checks of the comment form (honeypot, too-fast submit)."""

import ipaddress

from fastapi import Request

from services.gateway.errors import ApiError
from storage.connection import Store
from storage.keys import rate_limit
from storage.scripts import Scripts

IDLE_EXPIRY_MS = 10 * 60 * 1000


class RateLimiter:
    def __init__(self, redis: Store) -> None:
        self._scripts = Scripts(redis)

    async def take(self, kind: str, site: str, subject: str, per_minute: int) -> None:
        """Take one token or raise 429 with Retry-After; 0 per minute means no limit."""
        if per_minute <= 0:
            return
        allowed, wait_ms = await self._scripts.take_token(
            keys=[rate_limit(kind, site, subject)],
            args=[per_minute, per_minute / 60_000, IDLE_EXPIRY_MS],
        )
        if not allowed:
            seconds = max(1, -(-int(wait_ms) // 1000))
            raise ApiError(
                429,
                "rate_limited",
                f"too many {kind.replace('_', ' ')}; try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The peer, or, when the peer is a trusted proxy, the first untrusted X-Forwarded-For hop
    from the right. A forwarded header from anyone else is ignored."""
    peer = request.client.host if request.client else "unknown"
    networks = [ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if not trusted(peer):
        return peer
    hops = [
        hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()
    ]
    for hop in reversed(hops):
        if not trusted(hop):
            return hop
    return peer


def check_form(honeypot: str | None, elapsed_ms: int | None, min_seconds: float) -> None:
    """The widget's bot checks: a field people never see, and a minimum time to write."""
    if honeypot:
        raise ApiError(400, "rejected_as_spam", "this looks automated", "hp")
    if elapsed_ms is not None and elapsed_ms < min_seconds * 1000:
        raise ApiError(400, "too_fast", "that was written faster than people write", "elapsed_ms")
