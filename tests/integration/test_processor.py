"""The command processor as a real process: foreign producers, poison messages, dead peers."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as sync_redis
from redis.asyncio import Redis

from events.log_entry import decode_entry
from services.runtime import make_broker
from services.settings import Settings
from storage.keys import WRITER_GROUP, PartitionKeys, partition_of
from tests.conftest import TEST_PARTITIONS
from tests.integration.world import cli
from tests.processes import ServiceProcess, store_env, wait_until
from tests.processes import sync_client as store_client


@pytest.fixture
def processor_env(settings: Settings, redis: Redis) -> dict[str, str]:
    # `redis` first: the database is flushed before any processor starts.
    return {
        **store_env(settings.store),
        "COMMENTSTREAM_PARTITIONS": str(TEST_PARTITIONS),
        "COMMENTSTREAM_SECRET": settings.secret,
        "COMMENTSTREAM_CLAIM_IDLE_MS": "500",
    }


@pytest.fixture
def processor(processor_env: dict[str, str], logs_dir: Path) -> Iterator[ServiceProcess]:
    process = ServiceProcess(["processor"], processor_env, logs_dir).start()
    yield process
    process.stop()


@pytest.fixture
def sync_client(settings: Settings) -> Iterator[sync_redis.Redis]:
    client = store_client(settings.store)
    yield client
    client.close()


def keys_of(thread: str) -> PartitionKeys:
    return PartitionKeys(partition_of("default", thread, TEST_PARTITIONS))


def plain_command(thread: str, command_id: str, body: str | None = None) -> str:
    """A command exactly as another service would write it, with no commentstream code (each
    with a body of its own: the same body twice would be refused as a duplicate)."""
    return json.dumps(
        {
            "type": "PostComment",
            "command_id": command_id,
            "site": "default",
            "thread": thread,
            "actor": {"id": "svc:importer", "kind": "service"},
            "body": body or f"from another service, {command_id}",
            "author": {"name": "Importer"},
        }
    )


def outcome_of(client: sync_redis.Redis, keys: PartitionKeys, command_id: str) -> dict | None:
    raw = client.get(keys.outcome(command_id))
    return json.loads(raw) if raw else None


def wait_for_outcome(client: sync_redis.Redis, keys: PartitionKeys, command_id: str) -> dict:
    wait_until(lambda: outcome_of(client, keys, command_id) is not None, 30, f"{command_id}")
    outcome = outcome_of(client, keys, command_id)
    assert outcome is not None
    return outcome


def test_plain_json_from_redis_py_is_processed(
    processor: ServiceProcess, sync_client: sync_redis.Redis, thread_id: str
) -> None:
    keys = keys_of(thread_id)
    wait_until(lambda: sync_client.exists(keys.commands) == 1, 20, "the processor's groups")
    sync_client.xadd(keys.commands, {"command": plain_command(thread_id, "plain-1")})
    outcome = wait_for_outcome(sync_client, keys, "plain-1")
    assert outcome["status"] == "accepted" and outcome["comment_id"]
    log = [decode_entry(f) for _, f in sync_client.xrange(keys.events)]
    assert [e.type for e in log] == ["ThreadStarted", "CommentPosted"]
    assert all(e.command_id == "plain-1" for e in log)


async def test_a_faststream_publisher_is_processed_too(
    processor: ServiceProcess, settings: Settings, sync_client: sync_redis.Redis, thread_id: str
) -> None:
    keys = keys_of(thread_id)
    async with make_broker(settings) as broker:
        await broker.publish(json.loads(plain_command(thread_id, "fs-1")), stream=keys.commands)
    assert wait_for_outcome(sync_client, keys, "fs-1")["status"] == "accepted"


def test_malformed_commands_are_dead_lettered_and_processing_goes_on(
    processor: ServiceProcess, sync_client: sync_redis.Redis, thread_id: str
) -> None:
    keys = keys_of(thread_id)
    sync_client.xadd(keys.commands, {"command": "{not json"})
    invalid = json.loads(plain_command(thread_id, "bad-1"))
    del invalid["body"]
    sync_client.xadd(keys.commands, {"command": json.dumps(invalid)})
    sync_client.xadd(keys.commands, {"unexpected": "shape"})
    sync_client.xadd(keys.commands, {"command": plain_command(thread_id, "good-1")})

    assert wait_for_outcome(sync_client, keys, "good-1")["status"] == "accepted"
    bad = wait_for_outcome(sync_client, keys, "bad-1")
    assert (bad["status"], bad["code"], bad["field"]) == ("rejected", "invalid_command", "body")
    dead = sync_client.xrange(keys.dead_commands)
    assert len(dead) == 3
    assert {entry["reason"] for _, entry in dead} == {"invalid_command"}
    assert "{not json" in dead[0][1]["fields"]
    assert sync_client.xpending(keys.commands, WRITER_GROUP)["pending"] == 0


def test_a_command_sent_to_the_wrong_partition_is_forwarded(
    processor: ServiceProcess, sync_client: sync_redis.Redis, thread_id: str
) -> None:
    right = keys_of(thread_id)
    wrong = PartitionKeys((right.p + 1) % TEST_PARTITIONS)
    sync_client.xadd(wrong.commands, {"command": plain_command(thread_id, "lost-1")})
    assert wait_for_outcome(sync_client, right, "lost-1")["status"] == "accepted"


def test_entries_left_pending_by_a_dead_processor_are_finished_by_another(
    processor_env: dict[str, str], logs_dir: Path, sync_client: sync_redis.Redis, thread_id: str
) -> None:
    keys = keys_of(thread_id)
    for p in range(TEST_PARTITIONS):
        sync_client.xgroup_create(PartitionKeys(p).commands, WRITER_GROUP, id="0", mkstream=True)
    ids = [f"orphan-{n}" for n in range(10)]
    for command_id in ids:
        sync_client.xadd(keys.commands, {"command": plain_command(thread_id, command_id)})
    # A processor that read these and died before answering: they sit in its pending list.
    taken = sync_client.xreadgroup(WRITER_GROUP, "dead-processor", {keys.commands: ">"}, count=10)
    assert len(taken[0][1]) == 10
    assert sync_client.xpending(keys.commands, WRITER_GROUP)["pending"] == 10

    survivor = ServiceProcess(["processor"], processor_env, logs_dir).start()
    try:
        outcomes = [wait_for_outcome(sync_client, keys, command_id) for command_id in ids]
    finally:
        survivor.stop()
    assert all(o["status"] == "accepted" for o in outcomes)
    assert sync_client.xpending(keys.commands, WRITER_GROUP)["pending"] == 0
    posted = [
        envelope.command_id
        for envelope in (decode_entry(f) for _, f in sync_client.xrange(keys.events))
        if envelope.type == "CommentPosted"
    ]
    assert sorted(posted) == sorted(ids)


def test_a_processor_killed_mid_stream_loses_and_doubles_nothing(
    processor_env: dict[str, str], logs_dir: Path, sync_client: sync_redis.Redis, thread_id: str
) -> None:
    threads = [f"{thread_id}-{n}" for n in range(8)]
    first = ServiceProcess(["processor"], processor_env, logs_dir).start()
    wait_until(lambda: sync_client.exists(keys_of(threads[0]).commands) == 1, 20, "groups")
    sent = []
    for n in range(400):
        thread = threads[n % len(threads)]
        sync_client.xadd(keys_of(thread).commands, {"command": plain_command(thread, f"k-{n}")})
        sent.append((thread, f"k-{n}"))
    first.kill()
    second = ServiceProcess(["processor"], processor_env, logs_dir).start()
    try:
        for thread, command_id in sent:
            wait_for_outcome(sync_client, keys_of(thread), command_id)
    finally:
        second.stop()
    for thread in threads:
        history = sync_client.xrange(keys_of(thread).thread_events("default", thread))
        log = keys_of(thread).events
        events = [
            decode_entry(sync_client.xrange(log, f["position"], f["position"])[0][1])
            for _, f in history
        ]
        posted = [event.command_id for event in events][1:]
        assert len(posted) == len(set(posted)) == 50
        versions = [event.thread_version for event in events]
        assert versions == list(range(1, 52))


def test_poison_of_every_kind_is_parked_and_the_dlq_command_deals_with_it(
    processor: ServiceProcess, sync_client: sync_redis.Redis, settings: Settings, thread_id: str
) -> None:
    keys = keys_of(thread_id)
    good = json.loads(plain_command(thread_id, "poison-good"))
    poisons = {
        "not json": {"command": "\x00\x01 not json at all"},
        "unknown type": {
            "command": json.dumps({**good, "type": "LaunchRocket", "command_id": "p1"})
        },
        "a megabyte": {
            "command": json.dumps({**good, "body": "x" * 1_000_000, "command_id": "p2"})
        },
        "wrong field type": {"command": json.dumps({**good, "thread": 42, "command_id": "p3"})},
    }
    for fields in poisons.values():
        sync_client.xadd(keys.commands, fields)
    sync_client.xadd(keys.commands, {"command": json.dumps(good)})
    assert wait_for_outcome(sync_client, keys, "poison-good")["status"] == "accepted"
    for command_id, field in (("p1", None), ("p2", "body"), ("p3", "thread")):
        outcome = wait_for_outcome(sync_client, keys, command_id)
        assert outcome["code"] == "invalid_command" and outcome.get("field") == field
    wait_until(lambda: sync_client.xlen(keys.dead_commands) == 4, 20, "four dead letters")

    listed = cli(settings, "dlq", "list", "--json")
    letters = json.loads(listed.stdout)
    assert len(letters) == 4 and {letter["reason"] for letter in letters} == {"invalid_command"}
    retried = json.loads(cli(settings, "dlq", "retry", letters[0]["ref"]).stdout)
    assert retried == {"retry": [letters[0]["ref"]]}
    wait_until(
        lambda: sync_client.xlen(keys.dead_commands) == 4, 20, "the retried one parked again"
    )
    dropped = json.loads(cli(settings, "dlq", "drop", "--all").stdout)
    assert len(dropped["drop"]) == 4 and sync_client.xlen(keys.dead_commands) == 0


def test_processors_take_only_the_partitions_they_own(
    processor_env: dict[str, str], sync_client: sync_redis.Redis, logs_dir: Path, thread_id: str
) -> None:
    """COMMENTSTREAM_OWN_PARTITIONS: a process per shard. The commands of a partition no
    processor owns wait, pending nothing, until one that owns it starts."""
    threads = {}
    for n in range(200):
        thread = f"{thread_id}-{n}"
        threads.setdefault(partition_of("default", thread, TEST_PARTITIONS), thread)
    assert sorted(threads) == [0, 1, 2, 3]
    first = ServiceProcess(
        ["processor"], processor_env | {"COMMENTSTREAM_OWN_PARTITIONS": "0,1"}, logs_dir
    ).start()
    second = None
    try:
        wait_until(lambda: sync_client.exists(PartitionKeys(3).commands) == 1, 20, "groups")
        for p, thread in threads.items():
            sync_client.xadd(
                PartitionKeys(p).commands, {"command": plain_command(thread, f"own-{p}")}
            )
        for p in (0, 1):
            assert wait_for_outcome(sync_client, PartitionKeys(p), f"own-{p}")["status"] == (
                "accepted"
            )
        time.sleep(1)  # a processor that took partition 2 or 3 would have answered by now
        assert outcome_of(sync_client, PartitionKeys(2), "own-2") is None
        assert outcome_of(sync_client, PartitionKeys(3), "own-3") is None
        second = ServiceProcess(
            ["processor"], processor_env | {"COMMENTSTREAM_OWN_PARTITIONS": "2-3"}, logs_dir
        ).start()
        for p in (2, 3):
            assert wait_for_outcome(sync_client, PartitionKeys(p), f"own-{p}")["status"] == (
                "accepted"
            )
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_a_gone_processor_leaves_the_writer_group(
    processor_env: dict[str, str], sync_client: sync_redis.Redis, logs_dir: Path
) -> None:
    """Each processor is a consumer named after its process: one gone for good (idle past
    COMMENTSTREAM_CONSUMER_GRACE_SECONDS, nothing pending) is removed, the live one stays."""
    first = ServiceProcess(["processor"], processor_env, logs_dir).start()
    commands = PartitionKeys(0).commands
    try:
        wait_until(lambda: sync_client.exists(commands) == 1, 20, "the processor's groups")
        sync_client.xreadgroup(WRITER_GROUP, "processor@gone-host:1", {commands: ">"}, count=1)
    finally:
        first.stop()

    def consumers() -> set[str]:
        return {c["name"] for c in sync_client.xinfo_consumers(commands, WRITER_GROUP)}

    assert "processor@gone-host:1" in consumers()
    tidy = ServiceProcess(
        ["processor"], processor_env | {"COMMENTSTREAM_CONSUMER_GRACE_SECONDS": "1"}, logs_dir
    ).start()
    try:
        wait_until(lambda: "processor@gone-host:1" not in consumers(), 20, "the gone consumer out")
        wait_until(lambda: len(consumers()) == 1, 20, "only the live processor")
    finally:
        tidy.stop()
