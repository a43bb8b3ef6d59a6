"""The client itself (services/client/__init__.py says what it promises)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Self

from events.actors import Actor
from events.commands import Command, PostComment
from events.envelope import EventEnvelope
from events.log_entry import decode_entry
from events.outcomes import Outcome
from events.personal import AuthorDetails
from events.thread_events import ThreadEvent
from storage.command_sender import CommandSender
from storage.connection import Store, StoreAddress, connect
from storage.event_store import EventStore
from storage.failures import STORE_UNAVAILABLE
from storage.keys import PartitionKeys
from storage.log_reader import LogEntry, close_client
from storage.outcome_listener import OutcomeListener
from storage.subscriptions import GroupOnTheLog, Pending, Start

logger = logging.getLogger("commentstream.client")
RETRY_SECONDS = 0.5
QUEUED_MARK_SECONDS = 24 * 3600


class CommandRejected(Exception):
    """The command was decided and refused: `code` says why (`field` names the culprit)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(f"{outcome.code}: {outcome.message}")
        self.outcome = outcome
        self.code = outcome.code
        self.field = outcome.field


class CommandQueued(Exception):
    """No outcome within the timeout: the command is queued and will be processed; send it
    again with the same `command_id` (or ask `outcome_of`) to learn its outcome."""

    def __init__(self, command_id: str) -> None:
        super().__init__(f"command {command_id} is queued")
        self.command_id = command_id


@dataclass(frozen=True)
class Delivery:
    """One event for a subscriber. `ack()` once it is handled: until then it is delivered
    again (to this consumer or, after the claim time, another)."""

    partition: int
    position: str
    envelope: EventEnvelope
    deliveries: int
    _group: GroupOnTheLog

    @property
    def event(self) -> ThreadEvent:
        """The typed event, upcast to its newest schema."""
        return self.envelope.event()

    async def ack(self) -> None:
        await self._group.ack(PartitionKeys(self.partition), self.position)


class Client:
    def __init__(
        self,
        redis: Store,
        partitions: int,
        timeout_seconds: float,
        actor: Actor,
    ) -> None:
        self.redis = redis
        self.partitions = partitions
        self.actor = actor
        self._store = EventStore(redis, partitions, 3600)
        self._listener = OutcomeListener(redis, partitions)
        self._sender = CommandSender(
            redis, self._store, self._listener, timeout_seconds, QUEUED_MARK_SECONDS
        )
        self._started = False

    @classmethod
    async def connect(
        cls,
        url: str | StoreAddress,
        partitions: int = 8,
        *,
        cluster: bool | None = None,
        timeout_seconds: float = 3.0,
        service: str = "client",
    ) -> Self:
        """A client of the store at `url`: one server, or a cluster (`cluster=True`, or seed
        nodes separated by commas). `partitions` must be the deployment's. Commands it builds
        (`post_comment`) are sent as the service `svc:{service}`."""
        if isinstance(url, str):
            url = StoreAddress(url, cluster="," in url if cluster is None else cluster)
        client = cls(
            connect(url, service),
            partitions,
            timeout_seconds,
            Actor(id=f"svc:{service}", kind="service"),
        )
        await client._listener.start()
        client._started = True
        return client

    async def aclose(self) -> None:
        if self._started:
            await self._listener.stop()
        await close_client(self.redis)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # --- commands -------------------------------------------------------------------------

    async def send(self, command: Command) -> Outcome:
        """Send any command of events/commands.py and wait for its outcome."""
        outcome = await self._sender.send(command)
        if outcome is None:
            raise CommandQueued(command.command_id)
        if outcome.status == "rejected":
            raise CommandRejected(outcome)
        return outcome

    async def post_comment(
        self,
        site: str,
        thread: str,
        body: str,
        *,
        author: AuthorDetails | dict[str, Any] | None = None,
        command_id: str | None = None,
        title: str | None = None,
        url: str | None = None,
        actor: Actor | None = None,
    ) -> Outcome:
        fields: dict[str, Any] = {
            "site": site,
            "thread": thread,
            "body": body,
            "actor": actor or self.actor,
            "title": title,
            "url": url,
        }
        if author is not None:
            fields["author"] = author
        if command_id is not None:
            fields["command_id"] = command_id
        return await self.send(PostComment.model_validate(fields))

    async def outcome_of(self, command_id: str) -> Outcome | None:
        """The recorded outcome of a command sent before (None while it is queued or unknown)."""
        return await self._store.find_outcome(command_id)

    # --- subscriptions --------------------------------------------------------------------

    async def events(
        self,
        group: str,
        start: Start = "beginning",
        *,
        consumer: str | None = None,
        batch: int = 100,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 5,
        consumer_grace_ms: int = 24 * 3600 * 1000,
    ) -> AsyncIterator[Delivery]:
        """Every event of every partition for the subscribing service `group`, from `start`
        when the group is new, at least once each, typed and upcast. Several consumers of the
        same group share the events; give each its own `consumer` name."""
        name = consumer or f"{group}-{id(self):x}"
        subscription = GroupOnTheLog(self.redis, self.partitions, group, name)
        await subscription.create(start)
        try:
            while True:
                try:
                    claimed, batches = await subscription.take(
                        batch, claim_idle_ms, consumer_grace_ms
                    )
                except STORE_UNAVAILABLE as error:
                    logger.warning("%s: event read failed (%s); retrying", group, error)
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                for entry in claimed:
                    if entry.deliveries > max_deliveries:
                        reason = f"not acknowledged after {max_deliveries} deliveries"
                        await subscription.park(entry, reason)
                        continue
                    one = [(entry.entry_id, entry.fields)]
                    for delivery in await self._deliveries(
                        subscription, entry.partition, one, entry.deliveries
                    ):
                        yield delivery
                for keys, entries in batches:
                    for delivery in await self._deliveries(subscription, keys, entries, 1):
                        yield delivery
        finally:
            await subscription.aclose()

    async def _deliveries(
        self,
        subscription: GroupOnTheLog,
        keys: PartitionKeys,
        entries: list[LogEntry],
        deliveries: int,
    ) -> list[Delivery]:
        found = []
        for entry_id, fields in entries:
            try:
                envelope = decode_entry(fields, entry_id)
            except ValueError:  # not an event this version can read: parked at once
                pending = Pending(keys, entry_id, fields, deliveries)
                await subscription.park(pending, "unreadable entry")
                continue
            found.append(Delivery(keys.p, entry_id, envelope, deliveries, subscription))
        return found
