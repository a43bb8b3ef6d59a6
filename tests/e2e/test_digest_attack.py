"""The attack signed digests are for: someone who can write to Redis backdates one comment,
recomputes every later hash of its thread (and the thread's head), and replays the read models.
The plain `verify` passes; `verify --digest` with a digest exported before names the thread and
the version."""

import json
from pathlib import Path

import httpx
import redis

from events.envelope import GENESIS_HASH
from events.log_entry import StoredEntry, as_bytes, chain_hash_v2
from storage.keys import DIGESTS, PartitionKeys, partition_of
from tests.processes import start_stack, stop_stack, wait_until

THREAD = "attacked"


def covered_events(client: redis.Redis) -> int:
    last = client.xrevrange(DIGESTS, count=1)
    if not last:
        return 0
    return sum(p["events"] for p in json.loads(last[0][1]["digest"])["partitions"])


def rewrite_thread(client: redis.Redis, partition: int, version: int) -> None:
    """Backdate the event at `version` of THREAD by a year and chain every later one again."""
    keys = PartitionKeys(partition)
    entries = client.xrange(keys.events)
    client.delete(keys.events)
    head = GENESIS_HASH
    for entry_id, fields in entries:
        stored = json.loads(fields["e"])
        if stored["th"] != THREAD:
            client.xadd(keys.events, fields, id=entry_id)  # type: ignore[arg-type]
            continue
        if stored["n"] == version:
            stored["at"] = stored["at"].replace("2026", "2025", 1)
        json_part = json.dumps(stored, separators=(",", ":")).encode()
        sealed = as_bytes(fields["p"]) if "p" in fields else None
        head = chain_hash_v2(head, json_part, sealed)
        client.xadd(keys.events, StoredEntry(json_part, head, sealed).fields(), id=entry_id)  # type: ignore[arg-type]
    client.hset(keys.thread_state("default", THREAD), "head", head)


def test_a_rewrite_with_recomputed_hashes_passes_verify_but_not_the_digest(
    tmp_path: Path, logs_dir: Path
) -> None:
    stack = start_stack(tmp_path / "redis", logs_dir)
    client = redis.Redis.from_url(
        stack.server.url, decode_responses=True, encoding_errors="surrogateescape"
    )
    try:
        with httpx.Client(base_url=stack.base_url, timeout=10) as api:
            for n in range(6):
                posted = api.post(f"/api/v1/threads/{THREAD}/comments", json={"body": f"c{n}"})
                assert posted.status_code == 201
            api.post(f"/api/v1/threads/{THREAD}-other/comments", json={"body": "elsewhere"})
        logged = sum(client.xlen(PartitionKeys(p).events) for p in range(4))
        wait_until(lambda: covered_events(client) == logged, 20, "a digest of the whole log")
        kept = tmp_path / "digest.json"
        exported = stack.command("digest", "--output", str(kept))
        assert exported.returncode == 0, exported.stderr
        assert stack.command("verify", "--digest", str(kept)).returncode == 0

        rewrite_thread(client, partition_of("default", THREAD, 4), version=4)
        assert stack.command("replay", "all").returncode == 0
        plain = stack.command("verify")
        assert plain.returncode == 0, plain.stdout  # the rewrite is consistent in itself
        anchored = stack.command("verify", "--digest", str(kept), "--json")
        assert anchored.returncode == 1
        [altered] = json.loads(anchored.stdout)["digest"]["altered"]
        assert (altered["thread"], altered["version"]) == (f"default/{THREAD}", 4)
        assert altered["problem"] == "changed"
        said = stack.command("verify", "--digest", str(kept), "--chains-only").stdout
        assert f"ALTERED default/{THREAD} version 4" in said
    finally:
        client.close()
        stop_stack(stack)
