"""The thread_view projection: loads the touched slice of each thread, folds, writes back."""

import logging
from itertools import groupby

from redis.asyncio import Redis

from events.envelope import EventEnvelope
from events.personal import PersonalData, sealing_context, unseal
from events.thread_events import CommentEdited, CommentPosted
from projections.projector import dead_letter
from projections.thread_view.model import CommentRecord, ThreadMeta, ThreadSlice, apply
from projections.writes import WriteBatch
from services.storage.key_vault import AuthorKeyVault
from services.storage.keys import ProjectionKeys

logger = logging.getLogger("commentstream.projector.thread_view")


class ThreadViewProjection:
    name = "thread_view"

    def __init__(self, redis: Redis, vault: AuthorKeyVault) -> None:
        self._redis = redis
        self._vault = vault

    async def plan(self, keys: ProjectionKeys, envelopes: list[EventEnvelope]) -> WriteBatch:
        batch = WriteBatch()
        by_thread = groupby(
            sorted(envelopes, key=lambda e: (e.site, e.thread, e.thread_version)),
            key=lambda e: (e.site, e.thread),
        )
        for (site, thread), group in by_thread:
            events = list(group)
            before = await self._load(keys, site, thread, events)
            view = before
            for envelope in events:
                if envelope.type == "AuthorErased":
                    self._vault.forget(str(envelope.data.get("author_id")))
                try:
                    view = apply(view, envelope, await personal_data(self._vault, envelope))
                except Exception as error:
                    dead_letter(batch, keys, envelope.position or "", repr(error))
            self._write(batch, keys, site, thread, before, view)
        return batch

    async def _load(
        self, keys: ProjectionKeys, site: str, thread: str, events: list[EventEnvelope]
    ) -> ThreadSlice:
        meta = await self._redis.hgetall(keys.meta(site, thread))
        if any(e.type == "AuthorErased" for e in events):
            every = await self._redis.hgetall(keys.comments(site, thread))
            ids, records = list(every), list(every.values())
        else:
            ids = sorted({cid for e in events if (cid := e.data.get("comment_id"))})
            records = await self._redis.hmget(keys.comments(site, thread), ids) if ids else []
        return ThreadSlice(
            meta=ThreadMeta.model_validate(meta) if meta else ThreadMeta(),
            comments={
                cid: CommentRecord.model_validate_json(raw)
                for cid, raw in zip(ids, records, strict=True)
                if raw
            },
        )

    @staticmethod
    def _write(
        batch: WriteBatch,
        keys: ProjectionKeys,
        site: str,
        thread: str,
        before: ThreadSlice,
        after: ThreadSlice,
    ) -> None:
        if after.meta != before.meta:
            fields = after.meta.model_dump(exclude_none=True)
            flat = [str(part) for pair in fields.items() for part in pair]
            batch.add("HSET", keys.meta(site, thread), *flat)
            batch.add("HSET", keys.counts, f"{site}/{thread}", after.meta.count)
        changed = [
            record for cid, record in after.comments.items() if before.comments.get(cid) != record
        ]
        if changed:
            flat = [part for record in changed for part in (record.id, record.model_dump_json())]
            batch.add("HSET", keys.comments(site, thread), *flat)


async def personal_data(vault: AuthorKeyVault, envelope: EventEnvelope) -> PersonalData | None:
    """The unsealed personal fields of an event, None if it has none or its author was erased."""
    event = envelope.event()
    if not isinstance(event, CommentPosted | CommentEdited):
        return None
    sealed = event.personal
    if isinstance(sealed, PersonalData):
        return sealed
    key = await vault.key_for_reading(sealed.key_id)
    if key is None:
        return None
    return unseal(sealed, key, sealing_context(envelope.site, envelope.thread, event.comment_id))
