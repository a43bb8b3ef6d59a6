"""Property: read models built live (restarts, duplicate deliveries, odd batch sizes) equal
the read models built by one clean replay of the log, and the pages the gateway assembles from
them equal the in-memory view of the same records. Against a real server."""

import asyncio
from datetime import timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from events.actors import Actor
from events.commands import (
    ApproveComment,
    Command,
    DeleteComment,
    EditComment,
    LikeComment,
    LockThread,
    MarkSpam,
    PinComment,
    PostComment,
    RejectComment,
    Reply,
    ReportComment,
    UnlikeComment,
    UnlockThread,
    UnpinComment,
)
from events.moderation import ModerationPolicy
from projections.like_counts.reading import LikeCountsReader
from projections.registry import PROJECTIONS
from projections.thread_view.model import ThreadSlice, apply
from projections.thread_view.pages import PageRequest, ThreadPages
from projections.thread_view.query import Viewer, build_thread_view
from services.embedded import EmbeddedRedis
from services.processor.command_handler import CommandHandler
from services.processor.moderation_inputs import ModerationInputs
from services.projector.runner import ProjectorRunner
from storage.event_store import EventStore
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys, partition_of
from storage.scripts import Scripts
from storage.stream_entries import parse_stream_id
from storage.unsealing import personal_data

PARTITIONS = 2
THREADS = ("alpha", "beta")
ACTORS = [Actor(id=f"anon:{n}") for n in range(3)] + [Actor(id="user:mod", moderator=True)]

MODERATOR = ACTORS[3]
# Comments with "hold" in them wait for a moderator; verdicts, pins, reports and locks mix in.
POLICY = ModerationPolicy(suspect_words=("hold",), duplicate="off")
VERDICTS = {
    "approve": ApproveComment,
    "reject": RejectComment,
    "spam": MarkSpam,
    "pin": PinComment,
    "unpin": UnpinComment,
}
operation = st.tuples(
    st.sampled_from(
        ["post", "reply", "edit", "delete", "like", "unlike", "report", "lock", "unlock", *VERDICTS]
    ),
    st.integers(0, len(THREADS) - 1),
    st.integers(0, len(ACTORS) - 1),
    st.integers(0, 50),
)
# What the live projector does between commands: deliver the next few entries, deliver the
# last batch again, or restart (a new runner resuming from the stored checkpoint).
delivery = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.integers(1, 7)),
        st.tuples(st.just("duplicate"), st.just(0)),
        st.tuples(st.just("restart"), st.just(0)),
    ),
    max_size=4,
)


def command_for(op: tuple[str, int, int, int], created: dict[str, list[str]]) -> Command:
    kind, thread_index, actor_index, pick = op
    thread, actor = THREADS[thread_index], ACTORS[actor_index]
    ids = created[thread]
    target = ids[pick % len(ids)] if ids else "missing"
    body = f"{kind} {pick} *md*" + (" hold" if pick % 3 == 0 else "")
    if kind in VERDICTS:
        return VERDICTS[kind](thread=thread, actor=MODERATOR, comment_id=target)  # type: ignore[no-any-return]
    match kind:
        case "report":
            return ReportComment(thread=thread, actor=actor, comment_id=target, reason=body)
        case "lock":
            return LockThread(thread=thread, actor=MODERATOR)
        case "unlock":
            return UnlockThread(thread=thread, actor=MODERATOR)
        case "post":
            return PostComment(thread=thread, actor=actor, body=body, title=f"T {thread}")
        case "reply":
            return Reply(thread=thread, actor=actor, body=body, parent_id=target)
        case "edit":
            return EditComment(thread=thread, actor=actor, comment_id=target, body=body)
        case "delete":
            return DeleteComment(thread=thread, actor=actor, comment_id=target)
        case "like":
            return LikeComment(thread=thread, actor=actor, comment_id=target)
        case _:
            return UnlikeComment(thread=thread, actor=actor, comment_id=target)


def logged(entries: list[tuple[str, dict[str, str]]]) -> list[tuple[str, dict[str, str]]]:
    """XRANGE entries as a projector takes them: (entry id, the entry's fields)."""
    return list(entries)


class LiveFeed:
    """Feeds the log to projectors as FastStream would, plus the faults we inject."""

    def __init__(self, redis: Redis, vault: AuthorKeyVault) -> None:
        self.redis = redis
        self.vault = vault
        self.runners = self._new_runners()
        self.cursor: dict[int, str] = {p: "0" for p in range(PARTITIONS)}
        self.last_batch: dict[int, list[tuple[str, str]]] = {}

    def _new_runners(self) -> list[ProjectorRunner]:
        return [
            ProjectorRunner(self.redis, make(self.redis, self.vault))
            for make in PROJECTIONS.values()
        ]

    async def deliver(self, count: int) -> None:
        for p in range(PARTITIONS):
            keys = PartitionKeys(p)
            entries = logged(
                await self.redis.xrange(keys.events, min=f"({self.cursor[p]}", count=count)
            )
            if entries:
                self.cursor[p] = entries[-1][0]
                self.last_batch[p] = entries
                for runner in self.runners:
                    await runner.process(keys, entries)

    async def duplicate(self) -> None:
        for p, entries in self.last_batch.items():
            for runner in self.runners:
                await runner.process(PartitionKeys(p), entries)

    async def restart(self) -> None:
        self.runners = self._new_runners()
        # A restarted subscriber resumes after the slowest stored checkpoint.
        for p in range(PARTITIONS):
            keys = PartitionKeys(p)
            stored = [await r.load_checkpoint(keys) for r in self.runners]
            self.cursor[p] = "0" if None in stored else min(stored, key=parse_stream_id)  # type: ignore[arg-type]

    async def drain(self) -> None:
        await self.deliver(10_000)


async def read_models(redis: Redis) -> dict[str, Any]:
    """Every read-model key with its content, for comparison."""
    dumped: dict[str, Any] = {}
    async for key in redis.scan_iter("cs:*"):
        if any(f":{name}:" in key for name in PROJECTIONS):
            kind = await redis.type(key)
            if kind == "hash":
                dumped[key] = await redis.hgetall(key)
            elif kind == "zset":
                dumped[key] = await redis.zrange(key, 0, -1)
            elif kind == "string":
                dumped[key] = await redis.get(key)
    return {k: v for k, v in dumped.items() if v not in ({}, [])}


async def pages_match_the_in_memory_view(redis: Redis, vault: AuthorKeyVault, thread: str) -> None:
    """The pages assembled from fragments in Redis equal `build_thread_view` over the thread's
    events folded in memory, page by page, for every sort, for a newcomer and a known reader."""
    keys = PartitionKeys(partition_of("default", thread, PARTITIONS))
    view_keys, like_keys = keys.projection("thread_view", 0), keys.projection("like_counts", 0)
    folded = ThreadSlice()
    for envelope in await EventStore(redis, PARTITIONS, 3600).thread_history("default", thread):
        folded = apply(folded, envelope, await personal_data(vault, envelope))
    records = folded.comments
    likes = await LikeCountsReader(redis).counts(like_keys, "default", thread)
    pages = ThreadPages(redis, Scripts(redis))
    for actor in (None, ACTORS[0], MODERATOR):
        viewer = None
        if actor is not None:
            liked = await LikeCountsReader(redis).liked_by(
                like_keys, "default", thread, list(records), actor.id
            )
            viewer = Viewer(
                actor_id=actor.id,
                anonymous=not actor.moderator,
                liked=frozenset(liked),
                moderator=actor.moderator,
            )
        for sort in ("oldest", "newest", "top"):
            expected_cursor: str | None = None
            cursor: str | None = None
            while True:
                expected = build_thread_view(
                    site="default",
                    thread=thread,
                    meta=folded.meta,
                    records=records,
                    like_counts=likes,
                    viewer=viewer,
                    sort=sort,  # type: ignore[arg-type]
                    limit=2,
                    cursor=expected_cursor,
                    position=None,
                ).model_dump(mode="json")
                request = PageRequest("default", thread, sort, 2, cursor)  # type: ignore[arg-type]
                got = orjson.loads(await pages.page(request, view_keys, like_keys, viewer, None))
                assert got["comments"] == expected["comments"], (sort, actor)
                assert {**got, "comments": [], "next_cursor": None} == {
                    **expected,
                    "comments": [],
                    "next_cursor": None,
                }
                assert (got["next_cursor"] is None) == (expected["next_cursor"] is None)
                if got["next_cursor"] is None:
                    break
                cursor, expected_cursor = got["next_cursor"], expected["next_cursor"]


async def scenario(url: str, ops: list, deliveries: list) -> None:  # type: ignore[type-arg]
    live = Redis.from_url(url + "0", decode_responses=True, encoding_errors="surrogateescape")
    replay = Redis.from_url(url + "1", decode_responses=True, encoding_errors="surrogateescape")
    try:
        await live.flushall()
        store = EventStore(live, PARTITIONS, 3600)
        vault = AuthorKeyVault(live, "secret")
        handler = CommandHandler(
            store,
            vault,
            timedelta(minutes=15),
            ModerationInputs(lambda site: POLICY, b"fingerprints"),
        )
        feed = LiveFeed(live, vault)
        created: dict[str, list[str]] = {thread: [] for thread in THREADS}
        for index, op in enumerate(ops):
            outcome = await handler.handle(command_for(op, created))
            if outcome.status == "accepted" and op[0] in ("post", "reply"):
                created[THREADS[op[1]]].append(outcome.comment_id or "")
            for action, count in deliveries[index % len(deliveries)] if deliveries else []:
                await getattr(feed, action)(*([count] if action == "deliver" else []))
        await feed.drain()

        # One clean replay of the same log, into an empty database.
        for p in range(PARTITIONS):
            keys = PartitionKeys(p)
            for entry_id, fields in await live.xrange(keys.events):
                await replay.xadd(keys.events, fields, id=entry_id)
            entries = logged(await replay.xrange(keys.events))
            for make in PROJECTIONS.values():
                await ProjectorRunner(replay, make(replay, vault)).process(keys, entries)
        assert await read_models(live) == await read_models(replay)
        for thread in THREADS:
            await pages_match_the_in_memory_view(live, vault, thread)
    finally:
        await live.aclose()
        await replay.aclose()


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operation, min_size=1, max_size=30),
    deliveries=st.lists(delivery, min_size=1, max_size=5),
)
def test_live_projection_equals_clean_replay(
    redis_server: EmbeddedRedis,
    ops: list,
    deliveries: list,  # type: ignore[type-arg]
) -> None:
    asyncio.run(scenario(redis_server.url[: -len("0")], ops, deliveries))
