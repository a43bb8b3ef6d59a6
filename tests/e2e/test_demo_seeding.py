"""The demo comments go only where they are asked for: a deployment on its own server (REDIS_URL
set, COMMENTSTREAM_DEMO unset, as compose runs it) starts with an empty log; the test stack and
`commentstream up` on its embedded server (test_make_run.py) have the demo post's comments."""

import time
from pathlib import Path

import httpx

from services.gateway.demo.content import COMMENTS, THREAD
from storage.keys import PartitionKeys
from tests.processes import Stack, start_stack, stop_stack, wait_until

PARTITIONS = 4  # tests.processes.start_stack's
SEEDING_TIME_SECONDS = 3.0  # a seeding gateway posts the first seed comment well within this


def demo_count(base_url: str) -> int:
    return int(httpx.get(f"{base_url}/api/v1/threads/{THREAD}", timeout=10).json()["count"])


def test_a_deployment_on_its_own_server_gets_no_demo_comments(
    tmp_path: Path, logs_dir: Path, stack: Stack
) -> None:
    wait_until(lambda: demo_count(stack.base_url) == len(COMMENTS), 30, "the asked-for demo")
    # (on the cluster's turn, a deployment on a cluster of its own: REDIS_CLUSTER_URL set)
    deployment = start_stack(tmp_path / "redis", logs_dir, cluster=stack.on_cluster)
    try:
        time.sleep(SEEDING_TIME_SECONDS)
        assert demo_count(deployment.base_url) == 0
        store = deployment.client()
        assert sum(store.xlen(PartitionKeys(p).events) for p in range(PARTITIONS)) == 0
        store.close()
    finally:
        stop_stack(deployment)
