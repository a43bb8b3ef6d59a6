"""Start commentstream's own processes for tests, against servers the tests started."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
import redis.cluster

from services.embedded import EmbeddedRedis, free_port
from services.embedded_cluster import EmbeddedCluster
from services.processor.signer import create_signing_key
from services.settings import Settings
from services.supervisor import SERVICES, establish_deployment
from storage.connection import StoreAddress, cluster_seeds

ROOT = Path(__file__).resolve().parent.parent


class ServiceProcess:
    """One `commentstream <args>` subprocess with its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.args = args
        self.env = {**os.environ, **env}
        self.log_path = log_dir / f"{'-'.join(args)}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "ServiceProcess":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *self.args],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`commentstream ARGS` run to completion, with what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 20, what: str = "condition") -> None:
    """Poll `condition` until true; fails the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def store_env(address: StoreAddress) -> dict[str, str]:
    """The variable that tells a process where the store is: REDIS_URL or REDIS_CLUSTER_URL."""
    return {"REDIS_CLUSTER_URL" if address.cluster else "REDIS_URL": address.url}


def sync_client(address: StoreAddress) -> "redis.Redis | redis.cluster.RedisCluster":
    """A synchronous client (text replies, as the services read) of a server or a cluster."""
    if address.cluster:
        host, port = cluster_seeds(address.url)[0]
        return redis.cluster.RedisCluster(
            host=host, port=port, decode_responses=True, encoding_errors="surrogateescape"
        )
    return redis.Redis.from_url(
        address.url, decode_responses=True, encoding_errors="surrogateescape"
    )


@dataclass
class Stack:
    store: EmbeddedRedis | EmbeddedCluster
    base_url: str
    services: dict[str, ServiceProcess]

    @property
    def server(self) -> EmbeddedRedis:
        """The one server of a stack on one (a test of what only one server has)."""
        assert isinstance(self.store, EmbeddedRedis), "this stack runs on a cluster"
        return self.store

    @property
    def on_cluster(self) -> bool:
        return isinstance(self.store, EmbeddedCluster)

    @property
    def address(self) -> StoreAddress:
        return StoreAddress(self.store.url, cluster=isinstance(self.store, EmbeddedCluster))

    def client(self) -> "redis.Redis | redis.cluster.RedisCluster":
        """A synchronous client of the stack's store, whichever its topology."""
        return sync_client(self.address)

    @property
    def nodes(self) -> list[EmbeddedRedis]:
        """The server, or every node of the cluster."""
        return self.store.nodes if isinstance(self.store, EmbeddedCluster) else [self.store]

    def node_clients(self) -> list[redis.Redis]:
        """A client of each node (of the server alone on one), for what is set per node."""
        return [
            redis.Redis.from_url(node.url, decode_responses=True, encoding_errors="surrogateescape")
            for node in self.nodes
        ]

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`commentstream ARGS` against this stack's server, as an operator would run it."""
        return run_cli(list(args), self.services["processor"].env)


STRICT_SSO_SECRET = "strict-site-sso-secret-of-32-bytes!"
SSO_SITE_SECRET = "sso-site-secret-at-least-32-bytes-long"
NO_LIMITS = {
    "posts_per_minute_per_ip": 0,
    "posts_per_minute_per_identity": 0,
    "likes_per_minute_per_identity": 0,
    "min_seconds_to_submit": 0,
}


def start_stack(
    data_dir: Path, logs_dir: Path, fsync: str = "everysec", cluster: bool = False, **env: str
) -> Stack:
    """Its own server in `data_dir` (or its own cluster: three masters, three replicas), then
    processor, the projectors and the gateway."""
    store = (
        EmbeddedCluster(data_dir / "cluster", fsync=fsync).start()
        if cluster
        else EmbeddedRedis(data_dir, fsync=fsync).start()
    )
    signing_key = data_dir / "signing-key.pem"
    create_signing_key(signing_key)
    environment = {
        "COMMENTSTREAM_SIGNING_KEY_FILE": str(signing_key),
        "COMMENTSTREAM_DIGEST_SECONDS": "1",
        "COMMENTSTREAM_PARTITIONS": "4",
        "COMMENTSTREAM_SECRET": "e2e-secret",
        "COMMENTSTREAM_WRITE_TIMEOUT_SECONDS": "2",
        "COMMENTSTREAM_CLAIM_IDLE_MS": "1000",
        "COMMENTSTREAM_ADMIN_KEY": "e2e-admin-key",
        # Webhooks to the tests' own receivers on loopback, retried within a second.
        "COMMENTSTREAM_WEBHOOKS_ALLOW_PRIVATE": "true",
        "COMMENTSTREAM_WEBHOOK_SCHEDULE": "0,0.1,0.1,0.1,0.1,0.1,0.1",
        "COMMENTSTREAM_WEBHOOK_DISABLE_AFTER": "10",
        # Tests write fast from one address: the default site has no limits here; the site
        # "strict" has the real ones (and an SSO secret and one allowed origin).
        "COMMENTSTREAM_POSTS_PER_MINUTE_PER_IP": "0",
        "COMMENTSTREAM_POSTS_PER_MINUTE_PER_IDENTITY": "0",
        "COMMENTSTREAM_LIKES_PER_MINUTE_PER_IDENTITY": "0",
        "COMMENTSTREAM_MIN_SECONDS_TO_SUBMIT": "0",
        "COMMENTSTREAM_SITES": json.dumps(
            {
                "strict": {
                    "origins": ["https://allowed.example"],
                    "sso_secret": STRICT_SSO_SECRET,
                    "limits": {
                        "posts_per_minute_per_ip": 3,
                        "posts_per_minute_per_identity": 2,
                        "likes_per_minute_per_identity": 2,
                        "min_seconds_to_submit": 1.5,
                    },
                },
                # (the injection corpus has many links, and payloads that are stored alike: none
                # is held or refused for that here)
                "sso": {
                    "sso_secret": SSO_SITE_SECRET,
                    "limits": NO_LIMITS,
                    "moderation": {"max_links": 0, "duplicate": "off"},
                },
                "likes": {"limits": NO_LIMITS | {"likes_per_minute_per_identity": 2}},
                "moderated": {
                    "sso_secret": SSO_SITE_SECRET,
                    "limits": NO_LIMITS,
                    "moderation": {
                        "mode": "pre",
                        "banned_words": ["viagra"],
                        "suspect_words": ["casino"],
                        "moderators": ["sso:editor-1"],
                    },
                },
                "closing": {"limits": NO_LIMITS, "moderation": {"auto_close_days": 30}},
                "firsttime": {
                    "limits": NO_LIMITS,
                    "moderation": {"mode": "first_time", "disposable_email": "refuse"},
                },
            }
        ),
        **env,
    }
    return start_services(store, logs_dir, environment)


def start_services(
    store: EmbeddedRedis | EmbeddedCluster, logs_dir: Path, environment: dict[str, str]
) -> Stack:
    """Processor, both projectors and the gateway on a started `server`, each told which
    deployment to expect as `commentstream up` does, once /readyz says all are up. If that
    fails, every one of them and the server are stopped again, and the logs' tails are shown."""
    services: dict[str, ServiceProcess] = {}
    try:
        if isinstance(store, EmbeddedCluster):
            address = StoreAddress(store.url, cluster=True)
            where = {"REDIS_CLUSTER_URL": store.url}
        else:
            address = StoreAddress(store.url)
            where = {"REDIS_URL": store.socket_url}  # as `commentstream up` gives its services
        deployment = asyncio.run(establish_deployment(address, Settings()))
        port = free_port()
        own = {"COMMENTSTREAM_DEPLOYMENT": deployment, "PORT": str(port), **where}
        for name, args in SERVICES.items():
            services[name] = ServiceProcess(args, own | environment, logs_dir).start()
        stack = Stack(store, f"http://127.0.0.1:{port}", services)
        _wait_ready(stack)
        return stack
    except BaseException:
        for service in services.values():
            service.stop()
        store.stop()
        raise


def _wait_ready(stack: Stack) -> None:
    try:
        wait_until(lambda: http_ok(stack.base_url + "/readyz"), 30, "the stack to be ready")
    except AssertionError as error:
        tails = "\n".join(
            f"--- {s.log_path.name}\n{s.log()[-1500:]}" for s in stack.services.values()
        )
        raise RuntimeError(f"the stack did not become ready:\n{tails}") from error


def stop_stack(stack: Stack) -> None:
    for service in stack.services.values():
        service.stop()
    stack.store.stop()
