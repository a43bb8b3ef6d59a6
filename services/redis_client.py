"""One way to open Redis connections and FastStream brokers, from the settings."""

import logging
from typing import Any

from faststream.message import StreamMessage
from faststream.redis import RedisBroker
from redis.asyncio import Redis

from services.settings import Settings


def redis_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set (commentstream up sets it for its services)")
    return settings.redis_url


def connect(settings: Settings) -> Redis:
    return Redis.from_url(redis_url(settings), decode_responses=True)


def make_broker(settings: Settings) -> RedisBroker:
    """A broker whose per-message log lines are DEBUG, so INFO logs stay readable."""
    return RedisBroker(redis_url(settings), log_level=logging.DEBUG)


async def raw_entries(message: StreamMessage[Any]) -> Any:
    """A subscriber's decoder: the entries as Redis gave them (ids and fields), taken whole.

    (Asking FastStream for the message as a context parameter instead costs a thread hop per
    batch: fast_depends resolves context fields with a synchronous call in a thread pool.)"""
    return message.raw_message
