"""A whole system for end-to-end tests: its own server and every service as a process."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.embedded import EmbeddedRedis, free_port
from tests.processes import ServiceProcess, http_ok, wait_until

PARTITIONS = "4"


@dataclass
class Stack:
    server: EmbeddedRedis
    base_url: str
    services: dict[str, ServiceProcess]

    def restart(self, name: str) -> None:
        self.services[name].stop()
        self.services[name].start()

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{s.log()[-3000:]}" for n, s in self.services.items())


def start_stack(data_dir: Path, logs_dir: Path, **env: str) -> Stack:
    server = EmbeddedRedis(data_dir).start()
    port = free_port()
    environment = {
        "REDIS_URL": server.url,
        "PORT": str(port),
        "COMMENTSTREAM_PARTITIONS": PARTITIONS,
        "COMMENTSTREAM_SECRET": "e2e-secret",
        "COMMENTSTREAM_WRITE_TIMEOUT_SECONDS": "2",
        "COMMENTSTREAM_CLAIM_IDLE_MS": "1000",
        **env,
    }
    services = {
        name: ServiceProcess(args, environment, logs_dir).start()
        for name, args in {
            "processor": ["processor"],
            "thread_view": ["project", "thread_view"],
            "like_counts": ["project", "like_counts"],
            "gateway": ["gateway"],
        }.items()
    }
    stack = Stack(server, f"http://127.0.0.1:{port}", services)
    wait_until(
        lambda: http_ok(stack.base_url + "/readyz"), timeout=30, what="the stack to be ready"
    )
    return stack


def stop_stack(stack: Stack) -> None:
    for service in stack.services.values():
        service.stop()
    stack.server.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, logs_dir: Path) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("e2e-data"), logs_dir)
    yield running
    stop_stack(running)


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        yield client
