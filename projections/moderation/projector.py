"""The moderation projection: loads the records a batch names, folds, writes the records, the
queues they move between and the verdicts per author."""

from collections import defaultdict

from redis.asyncio import Redis

from events.envelope import EventEnvelope
from projections.moderation.model import (
    EVENT_TYPES,
    ModerationRecord,
    Verdict,
    apply,
    item_ref,
)
from projections.names import MODERATION
from projections.projection import dead_letter
from storage.keys import ProjectionKeys
from storage.read_model_writes import WriteBatch


class ModerationProjection:
    name = MODERATION
    event_types: frozenset[str] | None = EVENT_TYPES

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def plan(self, keys: ProjectionKeys, envelopes: list[EventEnvelope]) -> WriteBatch:
        batch = WriteBatch()
        by_site: dict[str, list[EventEnvelope]] = defaultdict(list)
        for envelope in envelopes:
            by_site[envelope.site].append(envelope)
        for site, events in by_site.items():
            await self._plan_site(batch, keys, site, events)
        return batch

    async def _plan_site(
        self, batch: WriteBatch, keys: ProjectionKeys, site: str, events: list[EventEnvelope]
    ) -> None:
        refs = sorted({_ref(envelope) for envelope in events})
        found = await self._redis.hmget(keys.queue_items(site), refs)
        before = {
            ref: ModerationRecord.model_validate_json(raw)
            for ref, raw in zip(refs, found, strict=True)
            if raw
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
            flat = [p for r in changed for p in (r.ref, r.model_dump_json(exclude_defaults=True))]
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
