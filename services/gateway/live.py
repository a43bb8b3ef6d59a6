"""One reader's live stream of a thread (server-sent events), fed by the process's LiveHub.

The SSE id is the thread version. A reader that comes back with `Last-Event-ID` first gets what
it missed from the thread's own history (`...:events`, ids `0-<thread_version>`), then what
the hub hands it; it subscribes before reading the history, and versions it already has are
passed over, so nothing falls between the two. Keep-alives come from the hub (version 0).
"""

from collections.abc import AsyncGenerator

from services.gateway.live_hub import KEEP_ALIVE, LiveHub, Subscription
from services.gateway.live_messages import message_of
from services.gateway.read_models import ReadModels
from storage.event_store import history_envelopes
from storage.keys import PartitionKeys

RETRY = b"retry: 2000\n\n"  # how long an EventSource waits before it reconnects
LAST_EVENT_ID = r"^\d{1,12}$"  # the thread version a reader has seen last
STREAM_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",  # nginx: pass each message on at once
}


async def thread_updates(
    hub: LiveHub,
    subscription: Subscription,
    reads: ReadModels,
    keys: PartitionKeys,
    after_version: int | None,
) -> AsyncGenerator[bytes, None]:
    """The SSE text of a thread from `after_version` (or from now) on, until the hub ends the
    stream (a reader too slow for its buffer, or a gateway shutting down)."""
    try:
        yield RETRY
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
        while (message := await subscription.mailbox.get()) is not None:
            version, data = message
            if message is KEEP_ALIVE:
                yield data
            elif last is None or version > last:
                last = version
                yield data
    finally:
        hub.release(subscription)
