"""Turn one command stream entry into an outcome: parse, decide, seal, append atomically."""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.redis.parser import BinaryMessageFormatV1
from pydantic import ValidationError
from redis.asyncio.client import Pipeline

from events.commands import (
    BanAuthor,
    Command,
    EditComment,
    LikeComment,
    PostComment,
    RejectComment,
    parse_command,
)
from events.decider import (
    DecisionContext,
    Rejection,
    ThreadState,
    Unchanged,
    bans_needed,
    comments_needed,
    decide,
    evolve,
)
from events.envelope import EventEnvelope
from events.identifiers import new_comment_id
from events.log_entry import seal_envelope
from events.moderation import BanKind, ban_id_of, ban_subject, body_fingerprint
from events.outcomes import Outcome
from events.personal import PersonalData, seal, sealing_context
from events.spam_score import spam_probability
from events.thread_events import CommentEdited, CommentPosted, ThreadEvent
from projections.moderation.reading import ban_in_force
from services.processor.moderation_inputs import ModerationInputs
from storage.event_store import CommandEntry, EventStore, enqueue_command
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys
from storage.stream_entries import COMMAND_FIELD, text

logger = logging.getLogger("commentstream.processor")

FASTSTREAM_FIELD = "__data__"
MAX_CONFLICT_RETRIES = 50


class CommandHandler:
    def __init__(
        self,
        store: EventStore,
        vault: AuthorKeyVault,
        edit_window: timedelta,
        moderation: ModerationInputs | None = None,
    ) -> None:
        self._store = store
        self._vault = vault
        self._edit_window = edit_window
        self._moderation = moderation or ModerationInputs.defaults()

    async def handle_entry(
        self, keys: PartitionKeys, entry_id: str, fields: dict[Any, Any]
    ) -> Outcome | None:
        """Process one stream entry; returns its outcome (None if it carried no command id)."""
        entry = CommandEntry(entry_id)
        try:
            command = parse_command(_command_payload(fields))
        except (ValidationError, ValueError) as error:
            return await self._refuse_invalid(keys, entry, fields, error)
        if self._store.keys_for(command.site, command.thread) != keys:
            await self._forward(keys, entry, command)
            return None
        return await self.handle(command, entry)

    async def handle(
        self,
        command: Command,
        entry: CommandEntry | None = None,
        occurred_at: datetime | None = None,
    ) -> Outcome:
        """Decide and append, retrying on a concurrent append to the same thread.

        `occurred_at` is for imports, which keep each comment's original time."""
        # A new author's key is made in the round trip that reads the state, not in one of its
        # own (should the command be refused, the author has a key and nothing sealed with it).
        key = None
        if isinstance(command, PostComment | EditComment) and not self._vault.holds(
            command.actor.id
        ):
            key = self._vault.key_request(command.actor.id)
        if isinstance(command, BanAuthor) and command.ban_id is None:
            command = command.model_copy(update={"ban_id": ban_id_of(command.command_id)})
        context = await self._context(command)
        ban_check = await self._ban_check(command)
        for _ in range(MAX_CONFLICT_RETRIES):
            also: list[Callable[[Pipeline], None]] = [key.queue] if key else []
            if ban_check is not None:
                also.append(ban_check.queue)
            state, replies = await self._store.load_state_with(
                command.site,
                command.thread,
                comments_needed(command),
                also,
                [context.fingerprint] if context.fingerprint else [],
                bans_needed(command),
            )
            if key is not None:
                self._vault.key_reply(key, replies.pop(0))
                key = None
            now = occurred_at or datetime.now(UTC)
            banned = ban_check is not None and ban_in_force(replies[0], now)
            decision = decide(
                state,
                command,
                replace(context, now=now, new_comment_id=new_comment_id(), banned=banned),
            )
            envelopes: list[EventEnvelope] = []
            new_state = state
            if isinstance(decision, Rejection | Unchanged):
                outcome = _outcome_of(command, decision)
            else:
                if isinstance(command, BanAuthor) and command.hide_comments and command.identity:
                    await self._hide_comments_of(command)
                envelopes, new_state = await self._envelopes(command, state, decision, now)
                outcome = _accepted(command, decision, new_state)
            result = await self._store.append(
                site=command.site,
                thread=command.thread,
                envelopes=envelopes,
                state=state,
                new_state=new_state,
                outcome=outcome,
                command_entry=entry,
            )
            if result.outcome is not None:
                return result.outcome
            logger.info("version conflict on %s/%s, retrying", command.site, command.thread)
        raise RuntimeError(f"gave up after {MAX_CONFLICT_RETRIES} version conflicts")

    async def _context(self, command: Command) -> DecisionContext:
        """The decision context but for the time and the new id (set on each attempt)."""
        moderation = self._moderation
        policy = moderation.policy_of(command.site)
        context = DecisionContext(datetime.now(UTC), "", self._edit_window, policy=policy)
        if isinstance(command, BanAuthor):
            named: list[tuple[BanKind, str | None]] = [
                ("identity", command.identity),
                ("email", command.email),
                ("address", command.address),
            ]
            subjects = tuple(
                ban_subject(moderation.ban_key, kind, value) for kind, value in named if value
            )
            return replace(context, ban_subjects=subjects)
        if not isinstance(command, PostComment):
            return context
        approved_before = policy.mode == "first_time" and await moderation.approved_before(
            command.site, command.actor.id
        )
        fingerprint = body_fingerprint(moderation.fingerprint_key, command.actor.id, command.body)
        model = await moderation.spam_models.of(command.site)
        score = round(spam_probability(model, command.body), 4) if model else None
        return replace(
            context, approved_before=approved_before, fingerprint=fingerprint, spam_score=score
        )

    async def _ban_check(self, command: Command) -> "BanCheck | None":
        """Where to look up whether the author of a post, edit or like is banned, and as what
        (identity; for a post also its email and client address), or None: nothing to check."""
        if not isinstance(command, PostComment | EditComment | LikeComment):
            return None
        if command.actor.moderator:
            return None
        banned_key = await self._moderation.banned_keys.banned(command.site)
        if banned_key is None:
            return None
        key = self._moderation.ban_key
        subjects = [ban_subject(key, "identity", command.actor.id)]
        if isinstance(command, PostComment):
            if command.author.email:
                subjects.append(ban_subject(key, "email", command.author.email))
            if command.address_key:
                subjects.append(f"address:{command.address_key}")
        return BanCheck(banned_key, subjects)

    async def _hide_comments_of(self, ban: BanAuthor) -> None:
        """Reject the banned identity's published comments on the site: one RejectComment per
        comment, queued before the ban is appended, each with an id of its own so that a retry
        of the ban queues none twice."""
        author = ban.identity or ""
        for keys in self._store.all_partitions():
            members = await self._store.redis.smembers(keys.actor_threads(author))
            for member in sorted(text(m) for m in members):
                site, _, thread = member.partition("/")
                if site != ban.site:
                    continue
                state = await self._store.load_state(site, thread, None)
                for comment in state.comments.values():
                    if comment.author_id != author or not comment.published:
                        continue
                    reject = RejectComment(
                        command_id=f"{ban.command_id}.hide.{comment.id}",
                        correlation_id=ban.correlation,
                        site=site,
                        thread=thread,
                        actor=ban.actor,
                        comment_id=comment.id,
                    )
                    target = self._store.keys_for(site, thread)
                    await enqueue_command(
                        self._store.redis, target, {COMMAND_FIELD: reject.model_dump_json()}
                    )

    async def _envelopes(
        self, command: Command, state: ThreadState, events: list[ThreadEvent], now: datetime
    ) -> tuple[list[EventEnvelope], ThreadState]:
        envelopes = []
        for event in events:
            envelope = seal_envelope(
                event=await self._sealed(command, event),
                site=command.site,
                thread=command.thread,
                thread_version=state.version + 1,
                occurred_at=now,
                actor=command.actor,
                command_id=command.command_id,
                correlation_id=command.correlation,
                causation_id=command.command_id,
                prev_hash=state.head_hash,
            )
            envelopes.append(envelope)
            state = evolve(state, envelope)
        return envelopes, state

    async def _sealed(self, command: Command, event: ThreadEvent) -> ThreadEvent:
        if isinstance(event, CommentPosted | CommentEdited) and isinstance(
            event.personal, PersonalData
        ):
            key = await self._vault.key_for_writing(command.actor.id)
            context = sealing_context(command.site, command.thread, event.comment_id)
            return event.model_copy(
                update={"personal": seal(event.personal, key, command.actor.id, context)}
            )
        return event

    async def _refuse_invalid(
        self, keys: PartitionKeys, entry: CommandEntry, fields: dict[Any, Any], error: Exception
    ) -> Outcome | None:
        field, message = _describe(error)
        return await self.park(keys, entry, fields, "invalid_command", message, field)

    async def park(
        self,
        keys: PartitionKeys,
        entry: CommandEntry,
        fields: dict[Any, Any],
        code: str,
        detail: str,
        field: str | None = None,
    ) -> Outcome | None:
        """Move an entry to the dead-letter stream and answer its producer, if it can be named."""
        logger.warning(
            "dead-lettering %s on %s: %s %s", entry.entry_id, keys.commands, code, detail
        )
        await self._store.redis.xadd(
            keys.dead_commands,
            {
                "reason": code,
                "detail": detail,
                "entry_id": entry.entry_id,
                "fields": json.dumps({text(k): text(v) for k, v in fields.items()}),
            },
        )
        command_id = _claimed_command_id(fields)
        if command_id is None:
            await self._store.redis.xack(keys.commands, entry.group, entry.entry_id)
            await self._store.redis.xdel(keys.commands, entry.entry_id)
            return None
        outcome = Outcome(
            command_id=command_id, status="rejected", code=code, message=detail, field=field
        )
        result = await self._store.record_outcome(keys, outcome, entry)
        return result.outcome

    async def keep_claim(self, keys: PartitionKeys, entry: CommandEntry, consumer: str) -> None:
        """Renew `consumer`'s claim on a pending entry it is still working on, without counting
        a delivery (XCLAIM JUSTID), so that no claimer takes it over meanwhile."""
        await self._store.redis.xclaim(
            keys.commands, entry.group, consumer, 0, [entry.entry_id], justid=True
        )

    async def _forward(self, keys: PartitionKeys, entry: CommandEntry, command: Command) -> None:
        """A command sent to the wrong partition goes on to the right one (the command id
        keeps it from being applied twice should this process die between the two steps)."""
        target = self._store.keys_for(command.site, command.thread)
        logger.info(
            "forwarding %s from %s to %s", command.command_id, keys.commands, target.commands
        )
        await enqueue_command(self._store.redis, target, {COMMAND_FIELD: command.model_dump_json()})
        await self._store.redis.xack(keys.commands, entry.group, entry.entry_id)
        await self._store.redis.xdel(keys.commands, entry.entry_id)


@dataclass(frozen=True)
class BanCheck:
    """The lookup of a command's author among a site's banned subjects, queued in the round
    trip that reads the thread's state."""

    banned_key: str
    subjects: list[str]

    def queue(self, pipe: Pipeline) -> None:
        pipe.hmget(self.banned_key, self.subjects)


def _accepted(command: Command, events: list[ThreadEvent], state: ThreadState) -> Outcome:
    posted = next((e for e in events if isinstance(e, CommentPosted)), None)
    return Outcome(
        command_id=command.command_id,
        status="accepted",
        comment_id=posted.comment_id
        if posted
        else getattr(command, "comment_id", None) or getattr(command, "ban_id", None),
        comment_status=posted.status if posted else None,
        held_for=(posted.held_for or None) if posted else None,
        thread_version=state.version,
        site=command.site,
        thread=command.thread,
    )


def _outcome_of(command: Command, decision: Rejection | Unchanged) -> Outcome:
    if isinstance(decision, Unchanged):
        return Outcome(
            command_id=command.command_id,
            status="accepted",
            code=decision.code,
            comment_id=getattr(command, "comment_id", None),
            site=command.site,
            thread=command.thread,
        )
    return Outcome(
        command_id=command.command_id,
        status="rejected",
        code=decision.code,
        message=decision.message,
        field=decision.field,
        site=command.site,
        thread=command.thread,
    )


def _command_payload(fields: dict[Any, Any]) -> bytes:
    decoded = {text(key): value for key, value in fields.items()}
    if COMMAND_FIELD in decoded:
        return _bytes(decoded[COMMAND_FIELD])
    if FASTSTREAM_FIELD in decoded:
        body, _headers = BinaryMessageFormatV1.parse(_bytes(decoded[FASTSTREAM_FIELD]))
        return body
    raise ValueError(f"the entry has neither a {COMMAND_FIELD!r} nor a {FASTSTREAM_FIELD!r} field")


def _claimed_command_id(fields: dict[Any, Any]) -> str | None:
    try:
        claimed = json.loads(_command_payload(fields)).get("command_id")
    except (ValueError, AttributeError):
        return None
    if isinstance(claimed, str) and 0 < len(claimed) <= 128 and claimed.isascii():
        return claimed
    return None


def _describe(error: Exception) -> tuple[str | None, str]:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        location = [str(part) for part in first["loc"] if not isinstance(part, int)]
        # The discriminator value ("PostComment") is not a field name.
        location = [part for part in location if not part[:1].isupper()]
        field = ".".join(location) or None
        return field, f"{field or 'command'}: {first['msg']}"
    return None, str(error)


def _bytes(value: bytes | str) -> bytes:
    return value.encode(errors="surrogateescape") if isinstance(value, str) else value
