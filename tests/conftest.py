"""Fixtures: real Redis-compatible servers started by the tests themselves, on free ports,
and a whole running system (every service as its own process) for end-to-end tests."""

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from services.embedded import EmbeddedRedis
from services.embedded_cluster import EmbeddedCluster
from services.settings import Settings
from storage.connection import Store, StoreAddress, connect
from storage.log_reader import close_client
from tests.processes import Stack, start_stack, stop_stack

TEST_PARTITIONS = 4
LIVE_STREAMS_PER_PROCESS = 60  # the session stack's cap (tests/e2e/test_live_fanout.py)


TOPOLOGIES = ("server", "cluster")
CLUSTER_IN_CI = (
    # The suites `make test` runs on the cluster too; `make test-cluster` runs every test that
    # takes a topology on the cluster (README: Running on Redis Cluster).
    "tests/integration/test_event_store.py",
    "tests/integration/test_projector_runner.py",
    "tests/e2e/test_http_api.py",
    "tests/faults/test_redis_restart.py",
    "tests/integration/test_client.py",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--topology",
        choices=("ci", "server", "cluster"),
        default="ci",
        help="ci (make test): every test on one server, and the suites of CLUSTER_IN_CI and the"
        " cluster's own tests on the local cluster too; server: one server only; cluster"
        " (make test-cluster): every test that takes a topology on the cluster, and the"
        " cluster's own tests",
    )


def _runs(item: pytest.Item, chosen: str) -> bool:
    """Whether `item` runs with --topology `chosen`."""
    callspec = getattr(item, "callspec", None)
    topology = callspec.params.get("topology") if callspec else None
    if item.get_closest_marker("cluster"):
        return chosen != "server"
    if topology is None:  # needs no store, or one server of its own
        return chosen != "cluster"
    if topology == "server":
        return chosen != "cluster"
    if item.get_closest_marker("single_server"):
        return False
    if chosen == "ci":
        return any(item.nodeid.startswith(module) for module in CLUSTER_IN_CI)
    return chosen == "cluster"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test on the topologies --topology asks for; browser tests last: Playwright's sync
    API occupies the thread's event loop."""
    chosen = config.getoption("--topology")
    kept = [item for item in items if _runs(item, chosen)]
    dropped = [item for item in items if not _runs(item, chosen)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    kept.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))
    items[:] = kept


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A server for integration tests; each test starts from an empty database."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    """A local cluster (three masters, three replicas) from the embedded server's binaries."""
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session", params=TOPOLOGIES)
def topology(request: pytest.FixtureRequest) -> str:
    """The store's topology a test runs on: one server, or the local cluster."""
    return str(request.param)


@pytest.fixture(scope="session")
def store(topology: str, request: pytest.FixtureRequest) -> StoreAddress:
    if topology == "cluster":
        cluster: EmbeddedCluster = request.getfixturevalue("redis_cluster")
        return StoreAddress(cluster.url, cluster=True)
    server: EmbeddedRedis = request.getfixturevalue("redis_server")
    return StoreAddress(server.url)


@pytest.fixture
def settings(store: StoreAddress) -> Settings:
    return Settings(
        redis_url=None if store.cluster else store.url,
        redis_cluster_url=store.url if store.cluster else None,
        partitions=TEST_PARTITIONS,
        secret="test-secret",
        claim_idle_ms=500,
        write_timeout_seconds=2.0,
    )


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Store]:
    client = connect(settings.store)
    await client.flushall()  # only ever the server (or cluster) these tests started
    yield client
    await close_client(client)


_thread_numbers = itertools.count()


@pytest.fixture
def thread_id() -> str:
    """A thread id no other test uses, so tests sharing a server stay apart."""
    return f"t{os.getpid()}-{next(_thread_numbers)}"


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, logs_dir: Path, topology: str
) -> Iterator[Stack]:
    # The demo is seeded here, as `commentstream up` does on its embedded server.
    running = start_stack(
        tmp_path_factory.mktemp("e2e-data"),
        logs_dir if topology == "server" else tmp_path_factory.mktemp("cluster-logs"),
        cluster=topology == "cluster",
        COMMENTSTREAM_DEMO="true",
        COMMENTSTREAM_LIVE_STREAMS_PER_PROCESS=str(LIVE_STREAMS_PER_PROCESS),
        COMMENTSTREAM_LIVE_STREAMS_PER_ADDRESS="1000",  # every test reader comes from 127.0.0.1
    )
    yield running
    stop_stack(running)


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        yield client
