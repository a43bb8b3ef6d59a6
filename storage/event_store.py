"""The event store: the log `cs:{p}:events`, per-thread history, and the one atomic append."""

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from redis.asyncio import RedisCluster
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, OutOfMemoryError, ResponseError

from events.decider import ThreadState
from events.envelope import EventEnvelope
from events.log_entry import decode_entry, encode_entry
from events.outcomes import Outcome
from storage.connection import Store, is_cluster
from storage.keys import WRITER_GROUP, PartitionKeys, partition_of
from storage.scripts import Scripts
from storage.stream_entries import text
from storage.thread_state import (
    THREAD_FIELD,
    changed_fields,
    fields_to_read,
    state_from_fields,
)

logger = logging.getLogger("commentstream.store")
OUTCOME_STREAM_MAXLEN = 10_000
HISTORY_FETCH = 500  # log entries fetched per round trip when reading a thread's history


@dataclass(frozen=True)
class AppendResult:
    status: Literal["ok", "duplicate", "conflict"]
    outcome: Outcome | None = None


@dataclass(frozen=True)
class CommandEntry:
    """Where a command came from, so the append can acknowledge it in the same step."""

    entry_id: str
    group: str = WRITER_GROUP


@dataclass(frozen=True)
class Replication:
    """Acknowledged means replicated: after each append, WAIT until `replicas` replicas have it
    (at most `timeout_ms`), and publish its outcome only then (COMMENTSTREAM_ACK_REPLICAS)."""

    replicas: int = 0
    timeout_ms: int = 1000


class EventStore:
    def __init__(
        self,
        redis: Store,
        partitions: int,
        outcome_ttl_seconds: int,
        replication: Replication = Replication(),
    ) -> None:
        self.redis = redis
        self.partitions = partitions
        self._outcome_ttl = outcome_ttl_seconds
        self._replication = replication
        self._scripts = Scripts(redis)

    def keys_for(self, site: str, thread: str) -> PartitionKeys:
        return PartitionKeys(partition_of(site, thread, self.partitions))

    def all_partitions(self) -> list[PartitionKeys]:
        return [PartitionKeys(p) for p in range(self.partitions)]

    async def load_state(
        self, site: str, thread: str, comment_ids: Iterable[str] | None = ()
    ) -> ThreadState:
        """The thread's state with the given comments (all of them when None)."""
        state, _ = await self.load_state_with(site, thread, comment_ids)
        return state

    async def load_state_with(
        self,
        site: str,
        thread: str,
        comment_ids: Iterable[str] | None = (),
        also: Sequence[Callable[[Pipeline], None]] = (),
        fingerprints: Iterable[str] = (),
        bans: Iterable[str] = (),
    ) -> tuple[ThreadState, list[Any]]:
        """As `load_state`, with whether the thread holds the given fingerprints, and with
        the commands `also` queues in the same round trip; returns their replies too."""
        key = self.keys_for(site, thread).thread_state(site, thread)
        names = None if comment_ids is None else fields_to_read(comment_ids, fingerprints, bans)
        async with self.redis.pipeline(transaction=False) as pipe:
            if names is None:
                pipe.hgetall(key)
            else:
                pipe.hmget(key, names)
            for queue in also:
                queue(pipe)
            found, *replies = await pipe.execute()
        if names is None:
            values: dict[str, str | None] = found
            values.setdefault(THREAD_FIELD, None)
        else:
            values = dict(zip(names, found, strict=True))
        return state_from_fields(values), replies

    async def append(
        self,
        *,
        site: str,
        thread: str,
        envelopes: list[EventEnvelope],
        state: ThreadState,
        new_state: ThreadState,
        outcome: Outcome,
        command_entry: CommandEntry | None = None,
    ) -> AppendResult:
        """Append atomically: only at `state.version`, only once per command id. With no
        envelopes this records a rejection or an unchanged outcome, also only at that version."""
        keys = self.keys_for(site, thread)
        return await self._append(
            keys,
            state_key=keys.thread_state(site, thread),
            history_key=keys.thread_events(site, thread),
            state_args=[state.version, new_state.version, new_state.head_hash],
            # (every event of one append has the command's actor)
            actor_threads_key=(
                keys.actor_threads(envelopes[0].actor.id) if envelopes else keys.events
            ),
            thread_member=f"{site}/{thread}",
            state_fields=changed_fields(state, new_state),
            envelopes=envelopes,
            outcome=outcome,
            command_entry=command_entry,
        )

    async def record_outcome(
        self, keys: PartitionKeys, outcome: Outcome, command_entry: CommandEntry | None = None
    ) -> AppendResult:
        """Record the outcome of a command that names no thread state (a parked one)."""
        return await self._append(
            keys,
            # Not touched when nothing is appended; any key of the partition will do.
            state_key=keys.events,
            history_key=keys.events,
            state_args=["", 0, ""],
            actor_threads_key=keys.events,
            thread_member="",
            state_fields=[],
            envelopes=[],
            outcome=outcome,
            command_entry=command_entry,
        )

    async def _append(
        self,
        keys: PartitionKeys,
        *,
        state_key: str,
        history_key: str,
        state_args: list[int | str],
        actor_threads_key: str,
        thread_member: str,
        state_fields: list[str],
        envelopes: list[EventEnvelope],
        outcome: Outcome,
        command_entry: CommandEntry | None,
    ) -> AppendResult:
        record = outcome.model_dump_json(exclude_none=True, exclude={"command_id"})
        replicated = self._replication.replicas > 0
        script_keys = [
            state_key,
            keys.events,
            history_key,
            keys.outcome(outcome.command_id),
            keys.outcomes,
            keys.commands,
            actor_threads_key,
        ]
        script_args = [
            *state_args,
            len(state_fields) // 2,
            record[:-1],
            self._outcome_ttl,
            0 if replicated else OUTCOME_STREAM_MAXLEN,
            command_entry.group if command_entry else "",
            command_entry.entry_id if command_entry else "",
            thread_member,
            len(envelopes),
            f'"command_id":{json.dumps(outcome.command_id)}',
            *(value for envelope in envelopes for value in _append_values(envelope)),
            *state_fields,
        ]
        if replicated:
            status, payload = await self._append_replicated(keys, script_keys, script_args)
        else:
            status, payload = await self._scripts.append_events(keys=script_keys, args=script_args)
        status = text(status)
        if status == "conflict":
            return AppendResult("conflict")
        return AppendResult(status, Outcome.model_validate_json(payload))  # type: ignore[arg-type]

    async def _append_replicated(
        self, keys: PartitionKeys, script_keys: list[str], script_args: list[Any]
    ) -> tuple[str, str]:
        """The append and a WAIT on the same connection (one pipeline, to the partition's
        master); the outcome is published once enough replicas have the append. When they do
        not in time, it is withheld (the writer hears nothing and answers 202, queued): an
        answer must not promise what a failover could take back."""
        wanted, timeout_ms = self._replication.replicas, self._replication.timeout_ms
        target: dict[str, Any] = {}
        if is_cluster(self.redis):
            target["target_nodes"] = self.redis.get_node_from_key(keys.events)
        for attempt in (1, 2):
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.evalsha(
                        self._scripts.append_events.sha,
                        len(script_keys),
                        *script_keys,
                        *script_args,
                    )
                    pipe.execute_command("WAIT", wanted, timeout_ms, **target)
                    (status, payload), replicas = await pipe.execute()
                break
            except NoScriptError:
                if attempt == 2:
                    raise
                await self.redis.script_load(self._scripts.append_events.script)
        status = text(status)
        if status != "conflict":
            if int(replicas) >= wanted:
                await self.redis.xadd(
                    keys.outcomes,
                    {"outcome": payload},
                    maxlen=OUTCOME_STREAM_MAXLEN,
                    approximate=True,
                )
            else:
                logger.warning(
                    "%s appended, but %s of %d replicas have it after %d ms: its outcome is not"
                    " published",
                    keys.events,
                    replicas,
                    wanted,
                    timeout_ms,
                )
        return status, payload

    async def takes_writes(self) -> bool:
        """False while the server refuses writes for want of memory (`maxmemory` reached with
        noeviction); asked without writing anything."""
        try:
            if is_cluster(self.redis):  # every master: a write may go to any
                await self._on_every_master(self._scripts.can_write)
            else:
                await self._scripts.can_write()
        except OutOfMemoryError:
            return False
        return True

    async def _on_every_master(self, script: AsyncScript) -> None:
        try:
            await self.redis.execute_command(
                "EVALSHA", script.sha, 0, target_nodes=RedisCluster.PRIMARIES
            )
        except NoScriptError:
            await self.redis.script_load(script.script)  # (on every master)
            await self.redis.execute_command(
                "EVALSHA", script.sha, 0, target_nodes=RedisCluster.PRIMARIES
            )

    async def actor_threads(self, actor_id: str) -> list[tuple[str, str]]:
        """Every thread (site, thread) in which `actor_id` has an event, from the index the
        append keeps, without reading the log."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for keys in self.all_partitions():
                pipe.smembers(keys.actor_threads(actor_id))
            found = await pipe.execute()
        members = {member for threads in found for member in threads}
        return sorted(tuple(member.split("/", 1)) for member in members)  # type: ignore[misc]

    async def find_outcome(self, command_id: str) -> Outcome | None:
        """The recorded outcome of a command, looked up in every partition."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for keys in self.all_partitions():
                pipe.get(keys.outcome(command_id))
            found = await pipe.execute()
        for raw in found:
            if raw:
                return recorded_outcome(raw, command_id)
        return None

    async def thread_history(self, site: str, thread: str) -> list[EventEnvelope]:
        """Every event of one thread, in order, without reading other threads."""
        keys = self.keys_for(site, thread)
        entries = await self.redis.xrange(keys.thread_events(site, thread))
        return await history_envelopes(self.redis, keys, entries)

    async def read_log(
        self, keys: PartitionKeys, after: str = "0", count: int = 1000
    ) -> list[EventEnvelope]:
        """Up to `count` events of a partition's log after entry id `after`."""
        entries = await self.redis.xrange(keys.events, min=f"({after}", count=count)
        return [decode_entry(fields, entry_id) for entry_id, fields in entries]


def recorded_outcome(record: str | bytes, command_id: str) -> Outcome:
    """An outcome from its record `cs:{p}:outcome:{command_id}`, which keeps it without the
    command id its key names (storage/scripts.py, APPEND_EVENTS)."""
    return Outcome.model_validate(json.loads(record) | {"command_id": command_id})


def _append_values(envelope: EventEnvelope) -> tuple[bytes, str, bytes]:
    """An event's `e`, `h` and `p` as APPEND_EVENTS takes them (b'' for no `p`)."""
    stored = encode_entry(envelope)
    return stored.json, stored.hash, stored.sealed or b""


async def history_envelopes(
    redis: Store, keys: PartitionKeys, entries: list[tuple[str, dict[str, str]]]
) -> list[EventEnvelope]:
    """The events a thread's history entries point at (each names its place in the log)."""
    positions = [fields["position"] for _, fields in entries]
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(positions), HISTORY_FETCH):
        async with redis.pipeline(transaction=False) as pipe:
            for position in positions[start : start + HISTORY_FETCH]:
                pipe.xrange(keys.events, min=position, max=position)
            for rows in await pipe.execute():
                found.update(rows)
    return [decode_entry(found[fields["position"]], fields["position"]) for _, fields in entries]


class CommandStreamMissing(RuntimeError):
    """The partition's command stream is gone: the server was wiped (or the key deleted)."""


async def enqueue_command(redis: Store, keys: PartitionKeys, fields: dict[str, str]) -> str:
    """XADD a command to `keys.commands`, never creating the stream (NOMKSTREAM).

    The stream and its `writer` group are made once, at `0`, by `ensure_command_groups`. A
    write that lands after a wipe must not recreate the stream: with no group on it, the
    command would sit there unread and the log would restart empty under the same name.
    """
    entry_id = await redis.xadd(keys.commands, fields, nomkstream=True)  # type: ignore[arg-type]
    if entry_id is None:
        raise CommandStreamMissing(f"{keys.commands} does not exist")
    return text(entry_id)


async def ensure_command_groups(redis: Store, partitions: int) -> None:
    """Create the writer group on every command stream at `0`, before anything is published.

    A group created later at `$` would skip commands already queued.
    """
    for p in range(partitions):
        try:
            await redis.xgroup_create(
                PartitionKeys(p).commands, WRITER_GROUP, id="0", mkstream=True
            )
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
