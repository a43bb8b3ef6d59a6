"""Old events are folded by the projections as upcast, typed events: the schema-history fixture
(one event of every type and version ever written, envelope v1) and the envelope v2 fixture
into every read model, event by event and in one batch, give the same models, with each v1
reply under its parent."""

from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import Redis

from projections.registry import PROJECTIONS
from services.operations.transfer import imported_entry
from services.operations.verify import _diff
from services.projector.runner import ProjectorRunner
from services.settings import Settings
from storage.key_vault import AuthorKeyVault
from storage.keys import PartitionKeys, partition_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE = FIXTURES / "schema_history.jsonl"
V2_FIXTURE = FIXTURES / "log_v2.jsonl"
ONE_BY_ONE, WHOLE = 1, 2


async def test_old_events_fold_the_same_one_by_one_as_in_one_batch(
    redis: Redis, settings: Settings
) -> None:
    lines = FIXTURE.read_text().splitlines()
    keys = PartitionKeys(partition_of("default", "schema-history", settings.partitions))
    entries = [(f"{n}-0", {"event": line}) for n, line in enumerate(lines, start=1)]
    await _fold_both_ways(redis, settings, keys, entries)

    view = keys.projection("thread_view", ONE_BY_ONE)
    roots = await redis.zrange(view.roots("default", "schema-history"), 0, -1)
    assert "c2" not in roots and "c3" not in roots  # replies, v1 (in_reply_to) and v2
    reply = orjson.loads(await redis.hget(view.comments("default", "schema-history"), "c2"))
    assert reply["parent_id"] == "c1" and reply["root_id"] == "c1"
    descendants = await redis.hget(view.replies("default", "schema-history"), "c1")
    assert descendants is not None and descendants.split(",")[:2] == ["c2:c1", "c3:c1"]


async def test_v2_events_fold_the_same_one_by_one_as_in_one_batch(
    redis: Redis, settings: Settings
) -> None:
    keys = PartitionKeys(partition_of("default", "log-v2", settings.partitions))
    entries = [imported_entry(line) for line in V2_FIXTURE.read_text().splitlines()]
    await _fold_both_ways(redis, settings, keys, entries)
    view = keys.projection("thread_view", ONE_BY_ONE)
    assert await redis.hget(view.meta("default", "log-v2"), "version") == str(len(entries))


async def _fold_both_ways(
    redis: Redis, settings: Settings, keys: PartitionKeys, entries: list[tuple[str, Any]]
) -> None:
    """Log `entries`, fold them into every projection one by one and in one batch: the same
    models, and nothing parked."""
    for entry_id, fields in entries:
        await redis.xadd(keys.events, fields, id=entry_id)
    vault = AuthorKeyVault(redis, settings.secret)
    for name, make in PROJECTIONS.items():
        projection = make(redis, vault)
        by_event = ProjectorRunner(redis, projection, ONE_BY_ONE)
        for entry in entries:  # the parent and each reply in batches of their own
            await by_event.process(keys, [entry])
        await ProjectorRunner(redis, projection, WHOLE).process(keys, entries)
        one_by_one = keys.projection(name, ONE_BY_ONE)
        assert (
            await _diff(redis, name, one_by_one.prefix, keys.projection(name, WHOLE).prefix) == []
        )
        assert await redis.xlen(keys.dead_events(name)) == 0
