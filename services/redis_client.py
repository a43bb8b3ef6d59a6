"""One way to open a Redis connection, with the settings' URL."""

from redis.asyncio import Redis

from services.settings import Settings


def connect(settings: Settings) -> Redis:
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set (commentstream up sets it for its services)")
    return Redis.from_url(settings.redis_url, decode_responses=True)
