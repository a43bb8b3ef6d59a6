"""Audit tooling on a big log: verify, replay, export and import speed.

    python -m benchmarks.audit --events 1000000        (make bench-audit)

The log is written straight into a server this benchmark starts (real envelopes: sealed
personal data, hash chains, the production encoders), not through the processor, which would
take most of an hour at a million events; the tools under test only read the log.
"""

import argparse
import asyncio
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from events.actors import Actor
from events.decider import ThreadState
from events.log_entry import encode_entry, seal_envelope
from events.personal import PersonalData, seal, sealing_context
from events.thread_events import CommentLiked, CommentPosted, ThreadEvent, ThreadStarted
from projections.registry import PROJECTIONS
from services.embedded import EmbeddedRedis
from services.operations.parallel_build import Workers
from services.operations.replay import replay
from services.operations.transfer import export_lines, import_lines
from services.operations.verify import compare_models, verify_chains
from services.settings import Settings
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys, partition_of

PARTITIONS = 8
EVENTS_PER_THREAD = 100
SECRET = "bench-secret"


def ignore(_: int) -> None:
    pass


async def fill(redis: Redis, events: int) -> float:
    """Write `events` events in threads of EVENTS_PER_THREAD: posts, replies and likes."""
    started = time.perf_counter()
    vault = AuthorKeyVault(redis, SECRET)
    authors = [Actor(id=f"anon:bench-{n}") for n in range(50)]
    keys = {}
    for author in authors:
        keys[author.id] = await vault.key_for_writing(author.id)
    rng = random.Random(1)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    pipe = redis.pipeline(transaction=False)
    for number in range(events // EVENTS_PER_THREAD):
        thread = f"bench-{number}"
        partition = PartitionKeys(partition_of("default", thread, PARTITIONS))
        state = ThreadState()
        comments: list[str] = []
        for step in range(EVENTS_PER_THREAD):
            actor = rng.choice(authors)
            moment += timedelta(milliseconds=3)
            event: ThreadEvent
            if step == 0:
                event = ThreadStarted(title=f"Post {number}", url=f"https://blog.example/{number}")
            elif comments and rng.random() < 0.3:
                event = CommentLiked(comment_id=rng.choice(comments))
            else:
                comment_id = f"b{number}x{step}"
                body = f"Comment {step} on *post* {number}: " + "lorem ipsum " * rng.randint(1, 20)
                sealed = seal(
                    PersonalData(body=body, name=f"Author {actor.id[-2:]}"),
                    keys[actor.id],
                    actor.id,
                    sealing_context("default", thread, comment_id),
                )
                parent = rng.choice(comments) if comments and rng.random() < 0.3 else None
                event = CommentPosted(comment_id=comment_id, parent_id=parent, personal=sealed)
                comments.append(comment_id)
            envelope = seal_envelope(
                event=event,
                site="default",
                thread=thread,
                thread_version=state.version + 1,
                occurred_at=moment,
                actor=actor,
                command_id=f"c{number}-{step}",
                correlation_id=f"c{number}-{step}",
                causation_id=f"c{number}-{step}",
                prev_hash=state.head_hash,
            )
            state = state.model_copy(
                update={"version": envelope.thread_version, "head_hash": envelope.hash}
            )
            pipe.xadd(partition.events, encode_entry(envelope).fields())  # type: ignore[arg-type]
        if len(pipe) >= 2000:
            await pipe.execute()
    await pipe.execute()
    return time.perf_counter() - started


async def measure(url: str, events: int, scratch: Path) -> dict[str, Any]:
    redis = Redis.from_url(url, decode_responses=True, encoding_errors="surrogateescape")
    results: dict[str, Any] = {"events": events}
    results["fill_seconds"] = round(await fill(redis, events), 1)
    print("filled", results, flush=True)
    settings = Settings(redis_url=url, partitions=PARTITIONS, secret=SECRET)

    started = time.perf_counter()
    report = await verify_chains(redis, PARTITIONS, ignore)
    assert not report.broken and report.events == events
    results["verify_chains_events_per_s"] = round(events / (time.perf_counter() - started))
    print("verify chains", results["verify_chains_events_per_s"], flush=True)

    for name, make in PROJECTIONS.items():
        started = time.perf_counter()
        projection = make(redis, AuthorKeyVault(redis, settings.secret))
        await replay(redis, projection, PARTITIONS, ignore, Workers(settings))
        results[f"replay_{name}_events_per_s"] = round(events / (time.perf_counter() - started))
        print("replay", name, results[f"replay_{name}_events_per_s"], flush=True)

    started = time.perf_counter()
    for make in PROJECTIONS.values():
        differences = await compare_models(
            redis,
            make(redis, AuthorKeyVault(redis, settings.secret)),
            PARTITIONS,
            ignore,
            Workers(settings),
        )
        assert differences == [], differences[:3]
    results["verify_models_events_per_s"] = round(2 * events / (time.perf_counter() - started))
    print("verify models", results["verify_models_events_per_s"], flush=True)

    path = scratch / "events.jsonl"
    started = time.perf_counter()
    with path.open("w") as out:
        async for line in export_lines(redis, PARTITIONS, None, ignore):
            out.write(line + "\n")
    results["export_seconds"] = round(time.perf_counter() - started, 1)
    target = Redis.from_url(
        url[:-1] + "1", decode_responses=True, encoding_errors="surrogateescape"
    )
    started = time.perf_counter()
    with path.open() as lines:
        imported = await import_lines(target, PARTITIONS, lines, ignore)
    await AuthorKeyVault(target, SECRET).import_wrapped(
        await AuthorKeyVault(redis, SECRET).export_wrapped()
    )
    results["import_seconds"] = round(time.perf_counter() - started, 1)
    assert imported == events
    report = await verify_chains(target, PARTITIONS, ignore)
    assert not report.broken and report.events == events
    print("round trip", results["export_seconds"], results["import_seconds"], flush=True)
    await target.aclose()
    await redis.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, default=Path("benchmark-audit.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        server = EmbeddedRedis(Path(scratch) / "redis").start()
        try:
            results = asyncio.run(measure(server.url, args.events, Path(scratch)))
        finally:
            server.stop()
    args.output.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
