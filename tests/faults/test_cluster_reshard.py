"""A partition's slot moved to another master (`valkey-cli --cluster reshard`) while posts and
likes flow to it and readers read it: no write lost or doubled, no reader sees more than a
request to retry (a 503 with Retry-After, while keys of a script are split between the two
masters), and `verify` is clean afterwards."""

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.embedded import cli_binary
from services.embedded_cluster import EmbeddedCluster
from storage.keys import PartitionKeys, partition_of, partition_slot
from tests.faults.load import Background, Load, all_ids, settle, verify
from tests.faults.test_cluster_failover import master_of
from tests.processes import Stack, start_stack, stop_stack, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.cluster]
PARTITIONS = 4  # tests/processes.py start_stack
WRITERS = 3


def thread_in_partition(p: int) -> str:
    return next(
        f"reshard-{n}"
        for n in range(1000)
        if partition_of("default", f"reshard-{n}", PARTITIONS) == p
    )


class Readers(Background):
    """Reads of one thread's page, as fast as they come, each status kept."""

    def __init__(self, stack: Stack, thread: str) -> None:
        super().__init__()
        self.url = f"{stack.base_url}/api/v1/threads/{thread}"
        self.statuses: list[int] = []
        self.retry_after: list[str | None] = []

    def _run(self) -> None:
        with httpx.Client(timeout=15) as client:
            while not self._stop.is_set():
                response = client.get(self.url)
                self.statuses.append(response.status_code)
                if response.status_code != 200:
                    self.retry_after.append(response.headers.get("retry-after"))


@pytest.fixture
def reshard_stack(tmp_path: Path, logs_dir: Path) -> Iterator[Stack]:
    stack = start_stack(tmp_path, logs_dir, cluster=True)
    yield stack
    stop_stack(stack)


def node_id(port: int) -> str:
    result = subprocess.run(
        [cli_binary(), "-p", str(port), "cluster", "myid"],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def test_a_partition_moved_to_another_master_under_load_loses_nothing(
    reshard_stack: Stack,
) -> None:
    stack = reshard_stack
    assert isinstance(stack.store, EmbeddedCluster)
    cluster = stack.store
    # Partition 0's slot is slot 0, the first of the first master's: `reshard` of one slot
    # from that master moves exactly it.
    assert partition_slot(0) == 0
    thread = thread_in_partition(0)
    key = PartitionKeys(0).events
    source = master_of(cluster, key)
    target = next(
        node
        for node in cluster.nodes
        if node is not source and master_of(cluster, f"{PartitionKeys(1).tag}:x") is node
    )
    with contextlib.ExitStack() as running:
        loads = [running.enter_context(Load(stack, thread)) for _ in range(WRITERS)]
        readers = running.enter_context(Readers(stack, thread))
        wait_until(lambda: sum(len(load.created) for load in loads) >= 60, 30, "steady writes")
        moved = subprocess.run(
            [
                cli_binary(),
                "--cluster",
                "reshard",
                f"127.0.0.1:{source.port}",
                "--cluster-from",
                node_id(source.port),
                "--cluster-to",
                node_id(target.port),
                "--cluster-slots",
                "1",
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert moved.returncode == 0, moved.stdout[-2000:] + moved.stderr[-2000:]
        wait_until(lambda: master_of(cluster, key) is target, 30, "the slot on its new master")
        after = sum(len(load.created) for load in loads)
        wait_until(
            lambda: sum(len(load.created) for load in loads) >= after + 60, 60, "writes after"
        )
    statuses = {status for load in loads for status in load.statuses}
    print(
        f"reshard: writes {sorted(statuses)}, reads 200 x {readers.statuses.count(200)},"
        f" 503 x {readers.statuses.count(503)}; valkey-cli: {moved.stdout.count('Moving slot')}"
        " slot moved"
    )
    assert statuses <= {201, 202, 503}, sorted(statuses)
    assert set(readers.statuses) <= {200, 503}, sorted(set(readers.statuses))
    assert all(retry is not None for retry in readers.retry_after)  # a 503 says when to retry
    assert readers.statuses.count(200) > 100
    shown = all_ids(stack, thread)
    assert len(shown) == len(set(shown)), "a write doubled"
    for load in loads:
        assert settle(stack, load) <= set(shown)
    assert verify(stack)["differences"] == []
