"""Fixtures: real Redis-compatible servers started by the tests themselves, on free ports,
and a whole running system (every service as its own process) for end-to-end tests."""

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from services.embedded import EmbeddedRedis
from services.settings import Settings
from storage.connection import connect
from tests.processes import Stack, start_stack, stop_stack

TEST_PARTITIONS = 4
LIVE_STREAMS_PER_PROCESS = 60  # the session stack's cap (tests/e2e/test_live_fanout.py)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API occupies the thread's event loop."""
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A server for integration tests; each test starts from an empty database."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def settings(redis_server: EmbeddedRedis) -> Settings:
    return Settings(
        redis_url=redis_server.url,
        partitions=TEST_PARTITIONS,
        secret="test-secret",
        claim_idle_ms=500,
        write_timeout_seconds=2.0,
    )


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = connect(settings.redis_url)
    await client.flushall()  # only ever the server these tests started
    yield client
    await client.aclose()


_thread_numbers = itertools.count()


@pytest.fixture
def thread_id() -> str:
    """A thread id no other test uses, so tests sharing a server stay apart."""
    return f"t{os.getpid()}-{next(_thread_numbers)}"


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, logs_dir: Path) -> Iterator[Stack]:
    # The demo is seeded here, as `commentstream up` does on its embedded server.
    running = start_stack(
        tmp_path_factory.mktemp("e2e-data"),
        logs_dir,
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
