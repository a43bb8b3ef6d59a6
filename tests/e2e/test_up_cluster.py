"""`make run-cluster` (`commentstream up --cluster`): a local cluster of six nodes from the
embedded binaries, every service on it, the demo served; Ctrl-C stops it all, and a second
start on the same data finds the same cluster and every comment."""

import re
from pathlib import Path

import httpx
import pytest
import redis

from services.embedded import free_port
from services.gateway.demo.content import COMMENTS, THREAD
from tests.e2e.test_make_run import ctrl_c, make_run
from tests.processes import http_ok, wait_until

pytestmark = pytest.mark.cluster


def node_ports(log: str) -> list[int]:
    [ports] = re.findall(r"on ports ([\d, ]+), data in", log)[-1:]
    return [int(port) for port in ports.split(", ")]


def test_make_run_cluster_serves_the_demo_on_six_nodes_and_keeps_it(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "run-cluster.log"
    first = make_run(tmp_path / "data", port, log, target="run-cluster")
    try:
        wait_until(lambda: http_ok(base + "/readyz"), 90, "make run-cluster to be ready")

        def demo_seeded() -> bool:
            demo = httpx.get(f"{base}/api/v1/threads/{THREAD}", timeout=10).json()
            return demo["count"] == len(COMMENTS)

        wait_until(demo_seeded, 30, "the demo post's comments")
        written = httpx.post(
            f"{base}/api/v1/threads/c/comments", json={"body": "kept?"}, timeout=10
        )
        assert written.status_code == 201, written.text
        ports = node_ports(log.read_text())
        assert len(ports) == 6
        roles = []
        for node in ports:
            client = redis.Redis(port=node, decode_responses=True)
            roles.append(client.info("replication")["role"])
            client.close()
        assert sorted(roles) == ["master"] * 3 + ["slave"] * 3
    finally:
        ctrl_c(first, log)
    for node in ports:
        assert (tmp_path / "data" / "cluster" / str(node) / "nodes.conf").exists()
        assert (tmp_path / "data" / "cluster" / str(node) / "appendonlydir").is_dir()

    second = make_run(tmp_path / "data", port, log, target="run-cluster")
    try:
        wait_until(lambda: http_ok(base + "/readyz"), 90, "make run-cluster to be ready again")
        assert node_ports(log.read_text()) == sorted(ports)  # the same cluster
        thread = httpx.get(f"{base}/api/v1/threads/c", timeout=10).json()
        assert [c["id"] for c in thread["comments"]] == [written.json()["id"]]
    finally:
        ctrl_c(second, log)
