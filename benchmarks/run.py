"""Benchmarks: post-to-visible latency over HTTP, command throughput, projector catch-up.

    python -m benchmarks.run --events 100000 --posts 300     (make bench)

Everything runs on this machine against a server the benchmark starts itself; the numbers
include Python start-up noise where said. Results are printed and written as JSON.
"""

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import redis as sync_redis
from redis.asyncio import Redis

from events.actors import Actor
from events.commands import Command, EditComment, LikeComment, PostComment, Reply
from projections.names import PROJECTION_NAMES
from services.embedded import EmbeddedRedis
from services.processor.command_handler import CommandHandler
from services.settings import Settings
from storage.event_store import EventStore
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys
from tests.processes import ServiceProcess, start_stack, stop_stack, wait_until

EVENTS_PER_THREAD = 100
PARTITIONS = 8
SECRET = "bench-secret"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


def post_to_visible(base_url: str, posts: int) -> dict[str, Any]:
    """Sequential posts; each timed until a plain read (no min_position) shows it."""
    write, visible = [], []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for n in range(posts):
            thread = f"latency-{n % 10}"
            started = time.perf_counter()
            response = client.post(f"/api/v1/threads/{thread}/comments", json={"body": f"n{n}"})
            written = time.perf_counter()
            assert response.status_code == 201, response.text
            comment_id = response.json()["id"]
            while True:
                view = client.get(f"/api/v1/threads/{thread}", params={"sort": "newest"}).json()
                if any(c["id"] == comment_id for c in view["comments"]):
                    break
            visible.append(time.perf_counter() - started)
            write.append(written - started)
    return {"posts": posts, "write_201": summary_ms(write), "post_to_visible": summary_ms(visible)}


def thread_script(thread: str, rng: random.Random) -> list[Command]:
    """About EVENTS_PER_THREAD events' worth of commands on one thread."""
    authors = [Actor(id=f"anon:{thread}-{n}") for n in range(8)]
    commands: list[Command] = [
        PostComment(thread=thread, actor=authors[0], body="first", title=f"Post {thread}")
    ]
    made = 2  # ThreadStarted + CommentPosted
    posted = 1
    while made < EVENTS_PER_THREAD:
        actor = rng.choice(authors)
        roll = rng.random()
        if roll < 0.45:
            commands.append(PostComment(thread=thread, actor=actor, body=f"comment {made}"))
            posted += 1
        elif roll < 0.6:
            commands.append(
                Reply(thread=thread, actor=actor, body=f"reply {made}", parent_id="pending")
            )
            posted += 1
        elif roll < 0.9:
            commands.append(LikeComment(thread=thread, actor=actor, comment_id="pending"))
        else:
            commands.append(
                EditComment(thread=thread, actor=actor, comment_id="pending", body="edit")
            )
        made += 1
    return commands


async def fill_log(url: str, events: int, workers: int = 16) -> dict[str, Any]:
    """Run commands through the real decide/seal/append path, many threads concurrently."""
    redis = Redis.from_url(url, decode_responses=True, encoding_errors="surrogateescape")
    store = EventStore(redis, PARTITIONS, 3600)
    handler = CommandHandler(store, AuthorKeyVault(redis, SECRET), timedelta(minutes=15))
    rng = random.Random(7)
    threads = [f"bench-{n}" for n in range(max(1, events // EVENTS_PER_THREAD))]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for thread in threads:
        queue.put_nowait(thread)
    handled = 0

    async def worker() -> None:
        nonlocal handled
        while not queue.empty():
            thread = queue.get_nowait()
            comments: list[tuple[str, str]] = []
            for command in thread_script(thread, rng):
                command = _resolve(command, comments, rng)
                outcome = await handler.handle(command)
                handled += 1
                if outcome.comment_id and isinstance(command, PostComment):
                    comments.append((outcome.comment_id, command.actor.id))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    seconds = time.perf_counter() - started
    total = sum([await redis.xlen(PartitionKeys(p).events) for p in range(PARTITIONS)])
    await redis.aclose()
    return {
        "commands": handled,
        "events": total,
        "seconds": round(seconds, 2),
        "commands_per_s": round(handled / seconds),
    }


def _resolve(command: Command, comments: list[tuple[str, str]], rng: random.Random) -> Command:
    """Point replies, likes and edits at comments that exist (edits at one's own)."""
    if isinstance(command, Reply):
        return command.model_copy(update={"parent_id": rng.choice(comments)[0]})
    if isinstance(command, LikeComment):
        return command.model_copy(update={"comment_id": rng.choice(comments)[0]})
    if isinstance(command, EditComment):
        own = [cid for cid, author in comments if author == command.actor.id]
        return command.model_copy(update={"comment_id": own[0] if own else comments[0][0]})
    return command


def catch_up(url: str, projection: str, logs: Path) -> dict[str, Any]:
    """Start a projector on a full log; time until every partition's checkpoint is at its end."""
    client = sync_redis.Redis.from_url(
        url, decode_responses=True, encoding_errors="surrogateescape"
    )
    ends = {}
    for p in range(PARTITIONS):
        last = client.xrevrange(PartitionKeys(p).events, count=1)
        if last:
            ends[p] = last[0][0]
    total = sum(client.xlen(PartitionKeys(p).events) for p in range(PARTITIONS))
    env = {
        "REDIS_URL": url,
        "COMMENTSTREAM_PARTITIONS": str(PARTITIONS),
        "COMMENTSTREAM_SECRET": SECRET,
        "COMMENTSTREAM_BATCH_SIZE": "500",
    }
    started = time.perf_counter()
    process = ServiceProcess(["project", projection], env, logs).start()
    first_commit: list[float] = []

    def done() -> bool:
        checkpoints = [
            client.get(PartitionKeys(p).projection(projection, 0).checkpoint) for p in ends
        ]
        if not first_commit and any(checkpoints):
            first_commit.append(time.perf_counter())
        return checkpoints == list(ends.values())

    try:
        wait_until(done, timeout=1800, what=f"{projection} to catch up")
    finally:
        process.stop()
        client.close()
    finished = time.perf_counter()
    return {
        "projection": projection,
        "events": total,
        "seconds_with_startup": round(finished - started, 2),
        "events_per_s_with_startup": round(total / (finished - started)),
        "events_per_s_after_first_commit": round(total / max(finished - first_commit[0], 1e-6)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--output", type=Path, default=Path("benchmark-results.json"))
    args = parser.parse_args()

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        stack = start_stack(root / "latency", root, COMMENTSTREAM_PARTITIONS=str(PARTITIONS))
        try:
            results["latency"] = post_to_visible(stack.base_url, args.posts)
        finally:
            stop_stack(stack)
        print("post -> visible:", json.dumps(results["latency"]), flush=True)

        server = EmbeddedRedis(root / "catch-up").start()
        try:
            results["fill"] = asyncio.run(fill_log(server.url, args.events))
            print("processor path (in-process):", json.dumps(results["fill"]), flush=True)
            results["catch_up"] = []
            for projection in PROJECTION_NAMES:
                measured = catch_up(server.url, projection, root)
                results["catch_up"].append(measured)
                print("catch-up:", json.dumps(measured), flush=True)
        finally:
            server.stop()
    results["settings"] = Settings(partitions=PARTITIONS).model_dump(
        include={"partitions", "batch_size"}
    )
    args.output.write_text(json.dumps(results, indent=2))
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
