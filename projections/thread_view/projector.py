"""The thread_view projection: loads the touched slice of each thread, folds, writes back."""

import logging
from itertools import groupby
from typing import Any

from events.envelope import EventEnvelope
from events.personal import PersonalData
from events.thread_events import (
    AuthorErased,
    CommentApproved,
    CommentDeleted,
    CommentEdited,
    CommentMarkedSpam,
    CommentPinned,
    CommentPosted,
    CommentRejected,
    CommentReported,
    CommentUnpinned,
)
from projections.names import THREAD_VIEW
from projections.projection import dead_letter
from projections.thread_view.fragments import (
    append_reply,
    held_fragment,
    public_fragment,
    root_score,
)
from projections.thread_view.model import (
    ThreadMeta,
    ThreadSlice,
    apply,
    needs_source,
    record_from_stored,
    stored_record,
)
from storage.connection import Store
from storage.key_vault import AuthorKeyVault
from storage.keys import ProjectionKeys, author_key
from storage.read_model_writes import WriteBatch
from storage.unsealing import personal_data, sources_at

logger = logging.getLogger("commentstream.projector.thread_view")


class ThreadViewProjection:
    name = THREAD_VIEW
    event_types: frozenset[str] | None = None  # every event moves the thread version

    def __init__(self, redis: Store, vault: AuthorKeyVault) -> None:
        self._redis = redis
        self._vault = vault

    async def plan(self, keys: ProjectionKeys, envelopes: list[EventEnvelope]) -> WriteBatch:
        batch = WriteBatch()
        threads = [
            (site, thread, list(group))
            for (site, thread), group in groupby(
                sorted(envelopes, key=lambda e: (e.site, e.thread, e.thread_version)),
                key=lambda e: (e.site, e.thread),
            )
        ]
        slices = await self._load(keys, threads, sealing_authors(envelopes))
        slices = await self._with_sources(keys, threads, slices)
        for (site, thread, events), before in zip(threads, slices, strict=True):
            view = before
            for envelope in events:
                if isinstance(erased := envelope.event(), AuthorErased):
                    self._vault.forget(erased.author_id)
                try:
                    view = apply(view, envelope, await personal_data(self._vault, envelope))
                except Exception as error:
                    dead_letter(batch, keys, envelope.position or "", repr(error))
            await self._write(batch, keys, site, thread, before, view)
        return batch

    async def _load(
        self,
        keys: ProjectionKeys,
        threads: list[tuple[str, str, list[EventEnvelope]]],
        authors: set[str],
    ) -> list[ThreadSlice]:
        """The touched slice of every thread in the batch, and the keys of its authors not
        held yet, in one round trip."""
        wanted = [comments_to_load(events) for _, _, events in threads]
        unknown = self._vault.uncached(authors)
        async with self._redis.pipeline(transaction=False) as pipe:
            for (site, thread, _), ids in zip(threads, wanted, strict=True):
                pipe.hgetall(keys.meta(site, thread))
                if ids is None:
                    pipe.hgetall(keys.comments(site, thread))
                elif ids:
                    pipe.hmget(keys.comments(site, thread), ids)
            for actor_id in unknown:
                pipe.get(author_key(actor_id))
            replies = iter(await pipe.execute())
        slices = [_slice(next(replies), ids, next(replies) if ids != [] else []) for ids in wanted]
        self._vault.remember_wrapped(unknown, list(replies))
        return slices

    async def _with_sources(
        self,
        keys: ProjectionKeys,
        threads: list[tuple[str, str, list[EventEnvelope]]],
        slices: list[ThreadSlice],
    ) -> list[ThreadSlice]:
        """The slices with the sources, from the log, of the stored comments the batch shows
        again (a verdict, a report that holds, a pin): rare, so one more round trip then."""
        wanted: dict[str, str] = {}  # by "site/thread comment_id"
        for (site, thread, events), before in zip(threads, slices, strict=True):
            for comment_id in shown_again(events):
                record = before.comments.get(comment_id)
                if record is not None and needs_source(record) and record.source_at:
                    wanted[f"{site}/{thread} {comment_id}"] = record.source_at
        if not wanted:
            return slices
        sources = await sources_at(self._redis, self._vault, keys.partition, wanted)
        return [
            before.model_copy(
                update={
                    "sources": {
                        cid: sources[ref]
                        for cid in before.comments
                        if (ref := f"{site}/{thread} {cid}") in sources
                    }
                }
            )
            for (site, thread, _), before in zip(threads, slices, strict=True)
        ]

    async def _write(
        self,
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
        if not changed:
            return
        flat = [part for record in changed for part in (record.id, stored_record(record))]
        batch.add("HSET", keys.comments(site, thread), *flat)
        fragments = [part for record in changed for part in (record.id, public_fragment(record))]
        batch.add("HSET", keys.public(site, thread), *fragments)
        held = [p for r in changed if r.status == "pending" for p in (r.id, held_fragment(r))]
        if held:
            batch.add("HSET", keys.held(site, thread), *held)
        released = [
            r.id
            for r in changed
            if r.status != "pending"
            and (was := before.comments.get(r.id))
            and was.status == "pending"
        ]
        if released:
            batch.add("HDEL", keys.held(site, thread), *released)
        await self._place_new(batch, keys, site, thread, before, after)

    async def _place_new(
        self,
        batch: WriteBatch,
        keys: ProjectionKeys,
        site: str,
        thread: str,
        before: ThreadSlice,
        after: ThreadSlice,
    ) -> None:
        """New top-level comments go into the sorted set, new replies at the end of their
        top-level comment's descendant list (in the order they were posted)."""
        new = [record for cid, record in after.comments.items() if cid not in before.comments]
        # (a reply whose parent is unknown has no root_id: it shows as a top-level comment)
        roots = [record for record in new if record.root_id is None]
        replies = [record for record in new if record.root_id is not None]
        if roots:
            scored = [part for record in roots for part in (root_score(record), record.id)]
            batch.add("ZADD", keys.roots(site, thread), *scored)
        if not replies:
            return
        tops = sorted({record.root_id for record in replies if record.root_id})
        found = await self._redis.hmget(keys.replies(site, thread), tops)
        lists = dict(zip(tops, found, strict=True))
        for record in replies:
            root = record.root_id or ""
            lists[root] = append_reply(lists[root], record.id, record.parent_id or root)
        batch.add("HSET", keys.replies(site, thread), *[p for pair in lists.items() for p in pair])


def comments_to_load(events: list[EventEnvelope]) -> list[str] | None:
    """The comments these events name, read from the typed (upcast) events (None: all of them,
    an author erased touches any)."""
    named: set[str] = set()
    for envelope in events:
        event = envelope.event()
        match event:
            case AuthorErased():
                return None
            case CommentPosted(parent_id=str(parent_id)):
                named |= {event.comment_id, parent_id}
            case (
                CommentPosted()
                | CommentEdited()
                | CommentDeleted()
                | CommentApproved()
                | CommentRejected()
                | CommentMarkedSpam()
                | CommentPinned()
                | CommentUnpinned()
                | CommentReported(hold=True)
            ):
                named.add(event.comment_id)
    return sorted(named)


def shown_again(events: list[EventEnvelope]) -> set[str]:
    """The comments these events render again without a new body (verdicts, holds, pins)."""
    return {
        event.comment_id
        for envelope in events
        if isinstance(
            event := envelope.event(),
            CommentApproved
            | CommentRejected
            | CommentMarkedSpam
            | CommentReported
            | CommentPinned
            | CommentUnpinned,
        )
    }


def _slice(meta: dict[str, str], ids: list[str] | None, found: Any) -> ThreadSlice:
    """A thread's slice from its meta hash and its comment records (HGETALL when `ids` is
    None, else HMGET of `ids`)."""
    if ids is None:
        ids, records = list(found), list(found.values())
    else:
        records = found
    return ThreadSlice(
        meta=ThreadMeta.model_validate(meta) if meta else ThreadMeta(),
        comments={
            cid: record_from_stored(cid, raw) for cid, raw in zip(ids, records, strict=True) if raw
        },
    )


def sealing_authors(envelopes: list[EventEnvelope]) -> set[str]:
    """The authors whose keys unseal these events' personal data (the runner has parsed every
    event already: those that fail are dead-lettered before a plan)."""
    return {
        event.personal.key_id
        for envelope in envelopes
        if isinstance(event := envelope.event(), CommentPosted | CommentEdited)
        and not isinstance(event.personal, PersonalData)
    }
