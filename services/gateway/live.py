"""One reader's live stream of a thread (server-sent events), fed by the process's LiveHub.

The SSE id is the thread version. A reader that comes back with `Last-Event-ID` first gets what
it missed from the thread's own history (`...:events`, ids `0-<thread_version>`), then what
the hub hands it; it subscribes before reading the history, and versions it already has are
passed over, so nothing falls between the two.
"""

import asyncio
from collections.abc import AsyncIterator

from services.gateway.live_hub import LiveHub, Subscription
from services.gateway.live_messages import message_of
from services.gateway.read_models import ReadModels
from storage.event_store import history_envelopes
from storage.keys import PartitionKeys

KEEP_ALIVE_SECONDS = 15.0  # a comment line this often, so idle proxies keep the stream
RETRY_MS = 2_000


async def thread_updates(
    hub: LiveHub,
    subscription: Subscription,
    reads: ReadModels,
    keys: PartitionKeys,
    after_version: int | None,
) -> AsyncIterator[str]:
    """The SSE text of a thread from `after_version` (or from now) on, until the hub ends the
    stream (a reader too slow for its buffer, or a gateway shutting down)."""
    try:
        yield f"retry: {RETRY_MS}\n\n"
        last = after_version
        if after_version is not None:
            history = keys.thread_events(subscription.site, subscription.thread)
            entries = await reads.redis.xrange(history, min=f"(0-{after_version}")
            for envelope in await history_envelopes(reads.redis, keys, entries):
                await reads.wait_for(keys, envelope.position or "0-0")
                text = await message_of(reads, keys, envelope)
                last = envelope.thread_version
                if text is not None:
                    yield text
        while True:
            try:
                message = await asyncio.wait_for(subscription.queue.get(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if message is None:
                return
            version, text = message
            if last is None or version > last:
                last = version
                yield text
    finally:
        hub.unsubscribe(subscription)
