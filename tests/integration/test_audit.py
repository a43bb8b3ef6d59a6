"""Replay for audits, through the `commentstream` commands a person runs, against a real server:
history, point-in-time views, tamper evidence, export/import, erasure."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode

from events.actors import Actor
from events.commands import (
    ApproveComment,
    BanAuthor,
    LikeComment,
    LockThread,
    PinComment,
    PostComment,
    RejectComment,
    ReportComment,
)
from events.envelope import GENESIS_HASH
from events.log_entry import StoredEntry, as_bytes, chain_hash_v2
from services.operations.transfer import imported_entry
from services.settings import Settings
from storage.connection import Store, StoreAddress, cluster_seeds, connect
from storage.event_store import EventStore
from storage.keys import PartitionKeys, partition_of
from tests.integration.world import ALICE, BOB, CAROL, World, cli


@pytest.fixture
def world(redis: Redis, settings: Settings) -> World:
    return World(redis, settings)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


async def test_audit_thread_lists_every_event_in_order(
    world: World, settings: Settings, thread_id: str
) -> None:
    await world.discussion(thread_id)
    result = cli(settings, "audit", "thread", f"default/{thread_id}", "--json")
    assert result.returncode == 0, result.stderr
    lines = json.loads(result.stdout)
    assert [line["type"] for line in lines] == [
        "ThreadStarted",
        "CommentPosted",
        "CommentPosted",
        "CommentPosted",
        "CommentEdited",
        "CommentLiked",
        "CommentUnliked",
        "CommentLiked",
        "CommentDeleted",
    ]
    assert [line["thread_version"] for line in lines] == list(range(1, 10))
    assert "Alice's *secret* thoughts" in lines[1]["change"] and lines[1]["actor"] == ALICE.id
    assert "Alice's edited thoughts" in lines[4]["change"]
    text = cli(settings, "audit", "thread", f"default/{thread_id}")
    assert "CommentEdited" in text.stdout and "anon:carol" in text.stdout


async def test_audit_thread_at_a_moment_shows_it_as_readers_saw_it(
    world: World, settings: Settings, thread_id: str
) -> None:
    ids = await world.discussion(thread_id)
    history = await world.store.thread_history("default", thread_id)
    before_edit = history[3].occurred_at.isoformat().replace("+00:00", "")  # after 3 comments
    result = cli(settings, "audit", "thread", f"default/{thread_id}", "--at", before_edit, "--json")
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["count"] == 3 and view["title"] == "T"
    [first] = view["comments"]
    assert first["id"] == ids["first"] and "secret" in first["html"]
    assert first["replies"][0]["id"] == ids["reply"]
    assert first["likes"]["count"] == 0
    now = cli(
        settings, "audit", "thread", f"default/{thread_id}", "--at", "2999-01-01T00:00:00", "--json"
    )
    latest = json.loads(now.stdout)
    assert latest["count"] == 2 and latest["comments"][0]["likes"]["count"] == 1
    assert "edited" in latest["comments"][0]["html"]


async def test_audit_comment_and_actor(world: World, settings: Settings, thread_id: str) -> None:
    ids = await world.discussion(thread_id)
    await world.discussion(thread_id + "-b")
    comment = json.loads(cli(settings, "audit", "comment", ids["first"], "--json").stdout)
    assert [(c["type"], c["actor"]) for c in comment] == [
        ("CommentPosted", ALICE.id),
        ("CommentEdited", ALICE.id),
        ("CommentLiked", CAROL.id),
        ("CommentUnliked", CAROL.id),
        ("CommentLiked", BOB.id),
    ]
    carol = json.loads(cli(settings, "audit", "actor", CAROL.id, "--json").stdout)
    assert {c["thread"] for c in carol} == {thread_id, thread_id + "-b"}
    assert [c["type"] for c in carol].count("CommentUnliked") == 2
    assert all(c["actor"] == CAROL.id for c in carol)


EDITOR = Actor(id="sso:default:editor-1", kind="user", moderator=True)


async def test_moderation_is_in_the_log_audit_verify_and_replay(
    world: World, settings: Settings, thread_id: str
) -> None:
    ids = await world.discussion(thread_id)
    first = ids["first"]
    await world.do(ReportComment(thread=thread_id, actor=CAROL, comment_id=first, reason="rude"))
    await world.do(PinComment(thread=thread_id, actor=EDITOR, comment_id=first))
    await world.do(RejectComment(thread=thread_id, actor=EDITOR, comment_id=first))
    await world.do(ApproveComment(thread=thread_id, actor=EDITOR, comment_id=first))
    await world.do(LockThread(thread=thread_id, actor=EDITOR))
    await world.do(BanAuthor(actor=EDITOR, identity=BOB.id, reason="trolling"))
    await world.project()
    editor = json.loads(cli(settings, "audit", "actor", EDITOR.id, "--json").stdout)
    assert [(line["type"], line["change"]) for line in editor] == [
        ("CommentPinned", "pinned by a moderator"),
        ("CommentRejected", "rejected by a moderator"),
        ("CommentApproved", "approved by a moderator"),
        ("ThreadLocked", "thread locked by a moderator"),
        ("AuthorBanned", editor[-1]["change"]),
    ]
    assert editor[-1]["change"].startswith("ban ") and "by identity" in editor[-1]["change"]
    assert BOB.id not in editor[-1]["change"]  # a keyed hash only
    history = json.loads(cli(settings, "audit", "thread", f"default/{thread_id}", "--json").stdout)
    assert ("CommentReported", CAROL.id, "reported: 'rude'") in [
        (line["type"], line["actor"], line["change"]) for line in history
    ]
    clean = cli(settings, "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    replayed = cli(settings, "replay", "all")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert cli(settings, "verify").returncode == 0


async def tamper(redis: Redis, keys: PartitionKeys, thread: str, version: int) -> None:
    """Rewrite the partition log with raw commands, changing one event's comment id (and not
    its hash)."""
    entries = await redis.xrange(keys.events)
    await redis.delete(keys.events)
    for entry_id, fields in entries:
        head = json.loads(fields["e"])
        if head["th"] == thread and head["n"] == version:
            head["d"]["comment_id"] = "forged"
            fields = fields | {"e": json.dumps(head, separators=(",", ":"))}
        await redis.xadd(keys.events, fields, id=entry_id)


async def test_verify_passes_a_clean_log_and_names_the_altered_event(
    world: World, redis: Redis, settings: Settings, thread_id: str
) -> None:
    await world.discussion(thread_id)
    await world.discussion(thread_id + "-other")
    await world.project()
    clean = cli(settings, "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "ok: every hash chain links" in clean.stdout

    await tamper(redis, world.store.keys_for("default", thread_id), thread_id, 5)
    report = cli(settings, "verify", "--json", "--chains-only")
    assert report.returncode == 1
    [broken] = json.loads(report.stdout)["broken"]
    assert (broken["thread"], broken["thread_version"]) == (thread_id, 5)
    assert broken["problem"] == "hash does not match content"


async def test_verify_finds_a_read_model_that_differs_from_the_log(
    world: World, redis: Redis, settings: Settings, thread_id: str
) -> None:
    await world.discussion(thread_id)
    await world.project()
    keys = world.store.keys_for("default", thread_id).projection("thread_view", 0)
    await redis.hset(keys.meta("default", thread_id), "count", "99")
    report = cli(settings, "verify", "--json")
    assert report.returncode == 1
    [difference] = json.loads(report.stdout)["differences"]
    assert difference["key"] == keys.meta("default", thread_id) and difference["field"] == "count"
    assert (difference["in_model"], difference["in_replay"]) == ("99", "2")


async def read_models(redis: Redis) -> dict[str, object]:
    dumped: dict[str, object] = {}
    async for key in redis.scan_iter("cs:*"):
        if ":thread_view:" in key or ":like_counts:" in key:
            kind = await redis.type(key)
            dumped[key] = await (
                redis.hgetall(key)
                if kind == "hash"
                else redis.zrange(key, 0, -1, withscores=True)
                if kind == "zset"
                else redis.get(key)
            )
    return dumped


AUTHORS = (ALICE, BOB, CAROL)


@asynccontextmanager
async def empty_store(redis: Store, settings: Settings) -> AsyncIterator[StoreAddress]:
    """A store with nothing in it, to import into: database 1 of the test's server, emptied
    again afterwards; or on a cluster, which has database 0 only, the test's own cluster once
    flushed (a test reads what it compares the import with before)."""
    if settings.store.cluster:
        await redis.flushall()  # the cluster these tests started
        yield settings.store
        return
    address = StoreAddress(settings.store.url[:-1] + "1")
    try:
        yield address
    finally:
        target = connect(address)
        await target.flushdb()
        await target.aclose()


def raw_client(address: StoreAddress) -> Redis | RedisCluster:
    """A client of the store at `address` that answers bytes, exactly as stored."""
    if address.cluster:
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in cluster_seeds(address.url)]
        )
    return Redis.from_url(address.url)


async def test_export_then_import_gives_the_same_log_and_read_models(
    world: World, redis: Redis, settings: Settings, thread_id: str, tmp_path: Path
) -> None:
    for n in range(3):
        await world.discussion(f"{thread_id}-{n}")
    await world.project()
    keys_file = tmp_path / "keys.json"
    exported = cli(settings, "export", "--keys", str(keys_file))
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert len(lines) == 27 and all(json.loads(line)["position"] for line in lines)
    path = tmp_path / "events.jsonl"
    path.write_text(exported.stdout)

    log = {p: await redis.xrange(PartitionKeys(p).events) for p in range(settings.partitions)}
    models = await read_models(redis)
    threads = {author.id: await world.store.actor_threads(author.id) for author in AUTHORS}

    async with empty_store(redis, settings) as address:
        imported = cli(
            settings, "import-events", str(path), "--keys", str(keys_file), store=address
        )
        assert imported.returncode == 0, imported.stderr
        again = cli(settings, "import-events", str(path), store=address)
        assert again.returncode == 1 and "not empty" in again.stderr
        target = connect(address)
        try:
            for p in range(settings.partitions):
                assert await target.xrange(PartitionKeys(p).events) == log[p]
            await world.project(target)
            assert await read_models(target) == models
            moved = EventStore(target, settings.partitions, 60)
            for author in AUTHORS:
                assert await moved.actor_threads(author.id) == threads[author.id]
            assert cli(settings, "verify", store=address).returncode == 0
        finally:
            await target.aclose()


async def test_export_and_import_keep_v1_and_v2_entries_byte_for_byte(
    redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    for fixture, thread in (("schema_history.jsonl", "schema-history"), ("log_v2.jsonl", "log-v2")):
        keys = PartitionKeys(partition_of("default", thread, settings.partitions))
        for n, line in enumerate((FIXTURES / fixture).read_text().splitlines(), start=1):
            position, fields = (
                imported_entry(line) if '"e":' in line[:40] else (f"{n}-0", {"event": line})
            )
            await redis.xadd(keys.events, fields, id=position)  # type: ignore[arg-type]
    exported = cli(settings, "export")
    assert exported.returncode == 0, exported.stderr
    path = tmp_path / "events.jsonl"
    path.write_text(exported.stdout)
    source = raw_client(settings.store)
    try:
        log = {p: await source.xrange(PartitionKeys(p).events) for p in range(settings.partitions)}
    finally:
        await source.aclose()

    async with empty_store(redis, settings) as address:
        imported = cli(settings, "import-events", str(path), store=address)
        assert imported.returncode == 0, imported.stderr
        target = raw_client(address)
        try:
            for p in range(settings.partitions):
                assert await target.xrange(PartitionKeys(p).events) == log[p]  # as bytes
        finally:
            await target.aclose()
        assert cli(settings, "export", store=address).stdout == exported.stdout
        assert cli(settings, "verify", "--chains-only", store=address).returncode == 0


async def every_key_and_value(redis: Redis) -> str:
    """All of Redis as text: every key, and every value of every type."""
    parts = []
    async for key in redis.scan_iter("*"):
        kind = await redis.type(key)
        if kind == "string":
            value = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = await redis.xrange(key)
        elif kind == "set":
            value = await redis.smembers(key)
        else:
            value = await redis.lrange(key, 0, -1)
        parts.append(f"{key} {value!r}")
    return "\n".join(parts)


async def test_erasing_an_author_leaves_no_plaintext_and_the_log_verifies(
    world: World, redis: Redis, settings: Settings, thread_id: str
) -> None:
    ids = await world.discussion(thread_id)
    await world.project()
    secrets = [
        "Alice Private",
        "alice@private.example",
        "alice-private.example",
        "secret* thoughts",
        "edited thoughts",
    ]
    everything = await every_key_and_value(redis)
    assert any(secret in everything for secret in secrets)  # the read model had them

    before = json.loads(cli(settings, "export-author", ALICE.id).stdout)
    [comment] = before["comments"]
    assert [v.get("body") for v in comment["versions"]] == [
        "Alice's *secret* thoughts",
        "Alice's edited thoughts",
    ]
    assert comment["versions"][0]["email"] == "alice@private.example"

    erased = cli(settings, "erase-author", ALICE.id)
    assert erased.returncode == 0, erased.stderr
    assert json.loads(erased.stdout)["key_deleted"] is True
    await world.project()

    everything = await every_key_and_value(redis)
    assert [s for s in secrets if s in everything] == []
    assert "Carol answers Alice" in everything  # other authors untouched
    view = json.loads(
        cli(
            settings,
            "audit",
            "thread",
            f"default/{thread_id}",
            "--at",
            "2999-01-01T00:00:00",
            "--json",
        ).stdout
    )
    [first] = view["comments"]
    assert first["id"] == ids["first"] and first["author"]["name"] == "[deleted]"
    assert first["html"] == "<p>[deleted]</p>"
    assert [r["html"] for r in first["replies"]] == ["<p>Carol answers Alice</p>\n"]
    after = json.loads(cli(settings, "export-author", ALICE.id).stdout)
    assert after["key_held"] is False
    assert all(v["erased"] for v in after["comments"][0]["versions"])
    assert cli(settings, "verify").returncode == 0


async def test_erasure_finds_an_authors_threads_whatever_the_text_of_the_log(
    world: World, redis: Redis, settings: Settings, thread_id: str
) -> None:
    """The same log, its JSON written with its keys in another order (as a writer in another
    language may), every hash chain recomputed over those bytes: erasure and export still find
    every thread, not by the text of the log."""
    await world.discussion(thread_id)
    other = await world.do(PostComment(thread=f"{thread_id}-b", actor=BOB, body="Bob's"))
    liked = LikeComment(thread=f"{thread_id}-b", actor=ALICE, comment_id=other.comment_id or "")
    await world.do(liked)
    for p in range(settings.partitions):
        events = PartitionKeys(p).events
        entries = await redis.xrange(events)
        await redis.delete(events)
        heads: dict[tuple[str, str], str] = {}
        for entry_id, fields in entries:
            head = json.loads(fields["e"])
            thread = (head["s"], head["th"])
            json_part = json.dumps(dict(reversed(head.items())), separators=(",", ":")).encode()
            sealed = as_bytes(fields["p"]) if "p" in fields else None
            heads[thread] = chain_hash_v2(heads.get(thread, GENESIS_HASH), json_part, sealed)
            stored = StoredEntry(json_part, heads[thread], sealed)
            await redis.xadd(events, stored.fields(), entry_id)  # type: ignore[arg-type]
        for (site, thread), chained in heads.items():
            await redis.hset(PartitionKeys(p).thread_state(site, thread), "head", chained)
    assert cli(settings, "verify", "--chains-only").returncode == 0
    await world.project()

    exported = json.loads(cli(settings, "export-author", ALICE.id).stdout)
    assert [c["thread"] for c in exported["comments"]] == [thread_id]
    erased = json.loads(cli(settings, "erase-author", ALICE.id).stdout)
    assert {t["thread"]: t["outcome"] for t in erased["threads"]} == {
        thread_id: "accepted",
        f"{thread_id}-b": "accepted",  # only a like there: nothing to erase, nothing refused
    }
    await world.project()
    assert "Alice Private" not in await every_key_and_value(redis)
