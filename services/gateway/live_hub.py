"""One fan-out of live updates per gateway process, however many readers are open.

A single follower reads every partition's log with one blocking XREAD on a connection of its
own (never one of the request path's), and each event that a live reader waits for is turned
into its SSE message once: its comment's public JSON and counts fetched once, then handed to
every subscriber of that thread from memory. Each subscriber has a bounded buffer; a reader
that does not keep up is dropped (its stream ends) and its EventSource comes back with
`Last-Event-ID`, missing nothing (services/gateway/live.py reads what it missed from the
thread's history). Streams are capped per client address and per process, and the hub sends
every stream its keep-alive, so that a reader waits on nothing but its mailbox.
"""

import asyncio
import contextlib
import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from events.log_entry import EntryFields, decode_entry, entry_type
from services.gateway.live_messages import LIVE_TYPES, message_of
from services.gateway.mailbox import Mailbox
from services.gateway.read_models import ReadModels
from services.gc_pauses import LongLivedStreams
from storage.connection import Store
from storage.failures import STORE_UNAVAILABLE
from storage.keys import PartitionKeys
from storage.log_reader import close_client
from storage.stream_reads import StreamReads

logger = logging.getLogger("commentstream.gateway.live")
BLOCK_MS = 1_000  # well under the client's socket timeout (redis-py's default: 5 s)
ENTRIES_PER_READ = 500
RETRY_SECONDS = 1.0
REFUSED_RETRY_AFTER_SECONDS = 10  # a refused stream's Retry-After
KEEP_ALIVE_SECONDS = 15  # a comment line this often, so idle proxies keep the stream
# Every tenth of a second, the keep-alives of one slot's readers: 10,000 at once were a burst of
# writes that every request waited behind (writes' p99 +32% with 10,000 readers open, +5% without).
KEEP_ALIVE_SLOTS = KEEP_ALIVE_SECONDS * 10
# Readers handed a message between two turns of the event loop: the writes of one reader each
# (some 25 us apiece) would otherwise keep every request waiting while a comment reaches a crowd.
FAN_OUT_SLICE = 500

Message = tuple[int, bytes]  # (thread version, SSE text encoded once for every reader)
KEEP_ALIVE: Message = (0, b": keep-alive\n\n")  # version 0: no event has it


class StreamRefused(Exception):
    """A live stream this process will not open now: too many from one address, or in all."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(eq=False, slots=True)
class Subscription:
    """One open live stream of one thread: what the follower has for it, in order."""

    site: str
    thread: str
    address: str
    mailbox: Mailbox[Message]  # closed: the stream ends (dropped, gone or shutting down)
    dropped: bool = False
    released: bool = False
    keep_alive_slot: int = 0  # which tenth of a second of KEEP_ALIVE_SECONDS is its own


@dataclass
class LiveHub:
    follower: Store  # a client of its own: the blocking read never holds a request's connection
    reads: ReadModels
    partitions: int
    per_process: int
    per_address: int
    buffer: int
    _threads: dict[tuple[str, str], set[Subscription]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _addresses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _open: int = 0
    _subscribed: int = 0
    _keep_alive_slots: list[set[Subscription]] = field(
        default_factory=lambda: [set() for _ in range(KEEP_ALIVE_SLOTS)]
    )
    dropped_streams: int = 0  # readers dropped for falling behind, since the process started
    _closing: bool = False
    _tasks: list["asyncio.Task[None]"] = field(default_factory=list)
    _long_lived: LongLivedStreams = field(default_factory=LongLivedStreams)

    @property
    def open_streams(self) -> int:
        return self._open

    def subscribe(self, site: str, thread: str, address: str) -> Subscription:
        """A new subscription, or StreamRefused when a cap is reached or the process stops."""
        if self._closing:
            raise StreamRefused(503, "shutting_down", "this server is stopping")
        if self._open >= self.per_process:
            raise StreamRefused(503, "live_full", "this server holds all the live streams it can")
        if self._addresses[address] >= self.per_address:
            raise StreamRefused(
                429, "too_many_live_streams", "too many live streams from this address"
            )
        self._subscribed += 1
        slot = self._subscribed % KEEP_ALIVE_SLOTS
        subscription = Subscription(
            site, thread, address, Mailbox(self.buffer), keep_alive_slot=slot
        )
        self._keep_alive_slots[slot].add(subscription)
        self._threads[(site, thread)].add(subscription)
        self._addresses[address] += 1
        self._open += 1
        self._long_lived.streams_now(self._open)
        return subscription

    def end(self, subscription: Subscription) -> None:
        """Hand the stream nothing more and let it end (its reader is gone, dropped, or the
        process stops). It keeps its place under the caps until `release`: a reader that
        stopped reading holds its connection until it reads again or goes."""
        readers = self._threads.get((subscription.site, subscription.thread))
        if readers is not None and subscription in readers:
            readers.discard(subscription)
            if not readers:
                del self._threads[(subscription.site, subscription.thread)]
        self._keep_alive_slots[subscription.keep_alive_slot].discard(subscription)
        subscription.mailbox.close()

    def release(self, subscription: Subscription) -> None:
        """The stream's response has ended: its place under the caps is free."""
        self.end(subscription)
        if subscription.released:
            return
        subscription.released = True
        self._addresses[subscription.address] -= 1
        if not self._addresses[subscription.address]:
            del self._addresses[subscription.address]
        self._open -= 1
        self._long_lived.streams_now(self._open)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._follow()), asyncio.create_task(self._keep_alive())]

    def end_all(self) -> None:
        """End every stream and take no more: the process is stopping, and its readers'
        EventSources reconnect (to another process) with Last-Event-ID."""
        self._closing = True
        for readers in list(self._threads.values()):
            for subscription in list(readers):
                self.end(subscription)

    async def stop(self) -> None:
        """End every stream and the follower."""
        self.end_all()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await close_client(self.follower)

    def _deliver(self, subscription: Subscription, message: Message) -> None:
        if not subscription.mailbox.offer(message):
            logger.info(
                "a live reader of %s/%s fell behind: dropped",
                subscription.site,
                subscription.thread,
            )
            subscription.dropped = True
            self.dropped_streams += 1
            self.end(subscription)

    async def _keep_alive(self) -> None:
        """Every tenth of a second, the keep-alive of the readers whose slot it is."""
        for slot in itertools.cycle(self._keep_alive_slots):
            await asyncio.sleep(KEEP_ALIVE_SECONDS / KEEP_ALIVE_SLOTS)
            await self._hand_out(list(slot), KEEP_ALIVE)

    async def _hand_out(self, subscriptions: list[Subscription], message: Message) -> None:
        for start in range(0, len(subscriptions), FAN_OUT_SLICE):
            if start:
                await asyncio.sleep(0)  # the loop's turn: other requests, and these writes
            for subscription in subscriptions[start : start + FAN_OUT_SLICE]:
                self._deliver(subscription, message)

    async def _follow(self) -> None:
        partitions = {PartitionKeys(p).events: PartitionKeys(p) for p in range(self.partitions)}
        cursors = await self._ends(list(partitions))
        reads = StreamReads(self.follower, ENTRIES_PER_READ, BLOCK_MS)
        try:
            await self._announce_new(reads, partitions, cursors)
        finally:
            await reads.aclose()

    async def _announce_new(
        self, reads: StreamReads, partitions: dict[str, PartitionKeys], cursors: dict[str, str]
    ) -> None:
        while True:
            try:
                for stream, entries in await reads.read(cursors):
                    for entry_id, fields in entries:
                        try:
                            await self._announce(partitions[stream], entry_id, fields)
                        except STORE_UNAVAILABLE:
                            raise  # read again from this entry (readers pass over repeats)
                        except Exception:  # one event must not stop every reader's updates
                            logger.exception("live update of %s not sent", entry_id)
                        cursors[stream] = entry_id
            except STORE_UNAVAILABLE as error:
                logger.warning("live updates paused: %s", error)
                await asyncio.sleep(RETRY_SECONDS)

    async def _ends(self, streams: list[str]) -> dict[str, str]:
        """Where each log ends now: the follower announces what comes after."""
        while True:
            try:
                async with self.follower.pipeline(transaction=False) as pipe:
                    for stream in streams:
                        pipe.xrevrange(stream, count=1)
                    lasts = await pipe.execute()
                return {
                    stream: last[0][0] if last else "0-0"
                    for stream, last in zip(streams, lasts, strict=True)
                }
            except STORE_UNAVAILABLE as error:
                logger.warning("live updates waiting for the store: %s", error)
                await asyncio.sleep(RETRY_SECONDS)

    async def _announce(self, keys: PartitionKeys, entry_id: str, fields: EntryFields) -> None:
        if not self._threads or entry_type(fields) not in LIVE_TYPES:
            return
        try:
            envelope = decode_entry(fields, entry_id)
        except ValueError:
            return  # the projectors park it; nothing to show
        readers = self._threads.get((envelope.site, envelope.thread))
        if not readers:
            return
        await self.reads.wait_for(keys, entry_id)
        text = await message_of(self.reads, keys, envelope)
        if text is None:
            return
        await self._hand_out(list(readers), (envelope.thread_version, text))
