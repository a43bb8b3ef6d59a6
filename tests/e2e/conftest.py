"""A whole system for end-to-end tests: its own server and every service as a process."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import Stack, start_stack, stop_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, logs_dir: Path) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("e2e-data"), logs_dir)
    yield running
    stop_stack(running)


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        yield client
