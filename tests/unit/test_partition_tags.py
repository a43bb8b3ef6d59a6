"""Partition hash tags spread over a cluster's slots (storage/keys.py): for P a power of two,
P evenly spaced slots, so that masters holding equal runs of slots get P/S partitions each,
rounded up or down."""

import collections

import pytest
from redis.crc import key_slot

from storage.keys import PartitionKeys, partition_slot, partition_tag, partition_target_slot

SLOTS = 16384


def equal_runs(masters: int) -> list[range]:
    """Slots per master as `valkey-cli --cluster create` assigns them."""
    per_master = SLOTS / masters
    runs, first, cursor = [], 0, 0.0
    for i in range(masters):
        last = SLOTS - 1 if i == masters - 1 else round(cursor + per_master - 1)
        runs.append(range(first, last + 1))
        first, cursor = last + 1, cursor + per_master
    return runs


def test_the_tag_of_every_key_of_a_partition_hashes_to_its_target_slot() -> None:
    keys = PartitionKeys(5)
    assert keys.events == f"cs:{{{partition_tag(5)}}}:events"
    for name in (keys.events, keys.commands, keys.thread_state("s", "t"), keys.outcome("c")):
        assert key_slot(name.encode()) == partition_target_slot(5) == partition_slot(5)


def test_the_first_targets_halve_the_slots_again_and_again() -> None:
    assert [partition_target_slot(p) for p in range(4)] == [0, 8192, 4096, 12288]
    assert sorted(partition_target_slot(p) for p in range(8)) == list(range(0, SLOTS, 2048))


@pytest.mark.parametrize("masters", [1, 2, 3, 4, 5, 6, 7, 9, 12, 16])
@pytest.mark.parametrize("partitions", [8, 16, 32, 64, 1024])
def test_partitions_per_master_differ_by_at_most_one(masters: int, partitions: int) -> None:
    runs = equal_runs(masters)
    per_master = collections.Counter(
        next(i for i, run in enumerate(runs) if partition_slot(p) in run) for p in range(partitions)
    )
    counts = [per_master[i] for i in range(masters)]
    assert max(counts) - min(counts) <= 1, counts


def test_the_default_eight_on_three_masters_are_three_three_two() -> None:
    runs = equal_runs(3)
    counts = collections.Counter(
        next(i for i, run in enumerate(runs) if partition_slot(p) in run) for p in range(8)
    )
    assert sorted(counts.values()) == [2, 3, 3]
