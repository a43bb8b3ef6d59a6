"""The moderation projection: loads the records a batch names, folds, writes the records, the
queues they move between and the verdicts per author."""

from collections import defaultdict

from events.envelope import EventEnvelope
from events.thread_events import AuthorBanned, AuthorUnbanned
from projections.moderation.model import (
    BAN_EVENTS,
    EVENT_TYPES,
    BannedSubject,
    BanRecord,
    Verdict,
    apply,
    item_from_stored,
    item_ref,
    stored_item,
)
from projections.names import MODERATION
from projections.projection import dead_letter
from storage.connection import Store
from storage.keys import ProjectionKeys
from storage.read_model_writes import WriteBatch


class ModerationProjection:
    name = MODERATION
    event_types: frozenset[str] | None = EVENT_TYPES

    def __init__(self, redis: Store) -> None:
        self._redis = redis

    async def plan(self, keys: ProjectionKeys, envelopes: list[EventEnvelope]) -> WriteBatch:
        batch = WriteBatch()
        by_site: dict[str, list[EventEnvelope]] = defaultdict(list)
        for envelope in envelopes:
            by_site[envelope.site].append(envelope)
        for site, events in by_site.items():
            bans = [e for e in events if isinstance(e.event(), BAN_EVENTS)]
            comments = [e for e in events if not isinstance(e.event(), BAN_EVENTS)]
            if comments:
                await self._plan_site(batch, keys, site, comments)
            if bans:
                await self._plan_bans(batch, keys, site, bans)
        return batch

    async def _plan_bans(
        self, batch: WriteBatch, keys: ProjectionKeys, site: str, events: list[EventEnvelope]
    ) -> None:
        """Bans in force by id, and their subjects for the processor's lookup (a subject named
        by two bans stays banned until both are lifted)."""
        lifted = [e.ban_id for env in events if isinstance(e := env.event(), AuthorUnbanned)]
        found = await self._redis.hmget(keys.bans(site), lifted) if lifted else []
        known: dict[str, BanRecord] = {
            ban_id: BanRecord.model_validate_json(raw)
            for ban_id, raw in zip(lifted, found, strict=True)
            if raw
        }
        subjects = sorted({s for ban in known.values() for s in ban.subjects})
        current = await self._redis.hmget(keys.banned(site), subjects) if subjects else []
        holder = {
            subject: BannedSubject.model_validate_json(raw).ban_id
            for subject, raw in zip(subjects, current, strict=True)
            if raw
        }
        for envelope in events:
            event = envelope.event()
            if isinstance(event, AuthorBanned):
                ban = BanRecord(
                    ban_id=event.ban_id,
                    subjects=event.subjects,
                    until=event.until,
                    reason=event.reason,
                    hide_comments=event.hide_comments,
                    by=envelope.actor.id,
                    at=envelope.occurred_at,
                )
                known[ban.ban_id] = ban
                batch.add("HSET", keys.bans(site), ban.ban_id, ban.model_dump_json())
                entry = BannedSubject(ban_id=ban.ban_id, until=ban.until).model_dump_json()
                holder.update(dict.fromkeys(ban.subjects, ban.ban_id))
                batch.add("HSET", keys.banned(site), *[p for s in ban.subjects for p in (s, entry)])
            elif isinstance(event, AuthorUnbanned) and event.ban_id in known:
                ban = known.pop(event.ban_id)
                batch.add("HDEL", keys.bans(site), ban.ban_id)
                freed = [s for s in ban.subjects if holder.get(s) == ban.ban_id]
                if freed:
                    batch.add("HDEL", keys.banned(site), *freed)

    async def _plan_site(
        self, batch: WriteBatch, keys: ProjectionKeys, site: str, events: list[EventEnvelope]
    ) -> None:
        refs = sorted({_ref(envelope) for envelope in events})
        found = await self._redis.hmget(keys.queue_items(site), refs)
        before = {
            ref: item_from_stored(ref, raw) for ref, raw in zip(refs, found, strict=True) if raw
        }
        after = dict(before)
        verdicts: dict[str, int] = defaultdict(int)
        for envelope in events:
            ref = _ref(envelope)
            try:
                record, verdict = apply(after.get(ref), envelope)
            except Exception as error:
                dead_letter(batch, keys, envelope.position or "", repr(error))
                continue
            if record is not None:
                after[ref] = record
            if verdict is not None and record is not None:
                verdicts[_history_field(record.author_id, verdict)] += 1
        changed = [record for ref, record in after.items() if before.get(ref) != record]
        if changed:
            flat = [p for r in changed for p in (r.ref, stored_item(r))]
            batch.add("HSET", keys.queue_items(site), *flat)
        for record in changed:
            was = before.get(record.ref)
            old_queue = was.queue if was is not None else None
            if old_queue is not None and old_queue != record.queue:
                batch.add("ZREM", keys.queue(site, old_queue), record.ref)
            if record.queue is not None and record.queued_at is not None:
                score = int(record.queued_at.timestamp() * 1000)
                batch.add("ZADD", keys.queue(site, record.queue), score, record.ref)
        for field, count in verdicts.items():
            batch.add("HINCRBY", keys.author_history(site), field, count)


def _history_field(author_id: str, verdict: Verdict) -> str:
    return f"{author_id}:{verdict}"


def _ref(envelope: EventEnvelope) -> str:
    """Every event this projection folds names a comment."""
    comment_id: str = getattr(envelope.event(), "comment_id")  # noqa: B009
    return item_ref(envelope.thread, comment_id)
