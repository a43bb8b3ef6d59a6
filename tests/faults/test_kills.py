"""Processes killed with SIGKILL under a steady load of posts and likes; more than one of each
service at once. Afterwards every acknowledged write is there exactly once and every read model
equals a fresh replay of the log (`commentstream verify`)."""

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.load import Load, all_ids, settle, verify
from tests.processes import (
    ServiceProcess,
    Stack,
    http_ok,
    start_stack,
    stop_stack,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fault_stack(
    tmp_path_factory: pytest.TempPathFactory, logs_dir: Path, topology: str
) -> Iterator[Stack]:
    stack = start_stack(
        tmp_path_factory.mktemp("faults"),
        logs_dir if topology == "server" else tmp_path_factory.mktemp("cluster-fault-logs"),
        cluster=topology == "cluster",
    )
    yield stack
    stop_stack(stack)


def test_processor_killed_mid_batch(fault_stack: Stack) -> None:
    processor = fault_stack.services["processor"]
    with Load(fault_stack, "kill-processor") as load:
        for _ in range(3):
            wait_until(lambda: len(load.created) >= 20, 30, "steady writes")
            time.sleep(random.uniform(0.05, 0.3))
            processor.kill()
            time.sleep(random.uniform(0.1, 0.5))
            processor.start()
        count = len(load.created)
        wait_until(lambda: len(load.created) >= count + 20, 60, "writes after the kills")
    assert 500 not in load.statuses
    landed = settle(fault_stack, load)
    shown = all_ids(fault_stack, "kill-processor")
    assert len(shown) == len(set(shown)) and set(shown) == landed  # exactly once, none extra


def test_projector_killed_between_write_and_ack_repeatedly(fault_stack: Stack) -> None:
    with Load(fault_stack, "kill-projectors") as load:
        for _ in range(5):
            time.sleep(random.uniform(0.05, 0.4))
            victim = fault_stack.services[random.choice(["thread_view", "like_counts"])]
            victim.kill()
            victim.start()
        wait_until(lambda: len(load.created) >= 60, 60, "writes during the kills")
    settle(fault_stack, load)
    wait_until(lambda: http_ok(fault_stack.base_url + "/readyz"), 30, "projectors back")
    assert verify(fault_stack)["differences"] == []


def test_two_of_every_service_at_once(fault_stack: Stack, logs_dir: Path) -> None:
    env = fault_stack.services["processor"].env
    twins = [
        ServiceProcess(args, env, logs_dir).start()
        for args in (["processor"], ["project", "thread_view"], ["project", "like_counts"])
    ]
    try:
        with Load(fault_stack, "twins") as load:
            wait_until(lambda: len(load.created) >= 80, 60, "writes with two of everything")
        landed = settle(fault_stack, load)
        shown = all_ids(fault_stack, "twins")
        assert len(shown) == len(set(shown)) and set(shown) == landed
    finally:
        for twin in twins:
            twin.stop()
    assert verify(fault_stack)["differences"] == []
