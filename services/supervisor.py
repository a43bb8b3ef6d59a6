"""`commentstream up`: the embedded server and every service, each in its own process."""

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from projections.names import PROJECTION_NAMES
from services.embedded import EmbeddedRedis
from services.embedded_cluster import EmbeddedCluster
from services.processor.signer import create_signing_key
from services.settings import Settings
from storage.connection import StoreAddress, connect
from storage.deployment import EXIT_WIPED, DeploymentGuard
from storage.key_upgrade import rename_old_keys
from storage.log_reader import close_client

logger = logging.getLogger("commentstream.up")

SERVICES: dict[str, list[str]] = {
    "gateway": ["gateway"],
    "processor": ["processor"],
    **{name: ["project", name] for name in PROJECTION_NAMES},
    "webhooks": ["webhooks"],
}
RESTART_BACKOFF_SECONDS = 1.0
Embedded = EmbeddedRedis | EmbeddedCluster | None


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "services.cli", *self.args], env=env)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def establish_deployment(address: StoreAddress | str, settings: Settings) -> str:
    """The deployment marker every child must find (created here on a new deployment)."""
    redis = connect(address)
    try:
        renamed = await rename_old_keys(redis)
        if renamed:
            print(f"renamed {renamed} keys to their spread partition tags (storage/keys.py)")
        return await DeploymentGuard(redis, settings.deployment, settings.partitions).establish()
    finally:
        await close_client(redis)


def start_embedded_store(settings: Settings, cluster: bool, env: dict[str, str]) -> Embedded:
    """The embedded server, or with `cluster` the local cluster (six nodes, under
    data_dir/cluster/, on the ports it had before), unless REDIS_URL or REDIS_CLUSTER_URL names
    a store; sets the variable that tells the services where it is in `env`."""
    if settings.redis_cluster_url or (settings.redis_url and not cluster):
        return None
    env.setdefault("COMMENTSTREAM_DEMO", "true")  # a first look: the demo post has comments
    if cluster:
        directory = settings.data_dir / "cluster"
        local = EmbeddedCluster(directory, ports=EmbeddedCluster.kept_ports(directory)).start()
        env.pop("REDIS_URL", None)
        env["REDIS_CLUSTER_URL"] = local.url
        print(
            f"local cluster: {local.masters} masters with a replica each, on ports"
            f" {', '.join(str(node.port) for node in local.nodes)}, data in {directory}/",
            flush=True,
        )
        return local
    server = EmbeddedRedis(settings.data_dir).start()
    env["REDIS_URL"] = server.socket_url
    print(
        f"embedded server ({server.url}; the services use {server.socket_path}) with its"
        f" data in {settings.data_dir}/",
        flush=True,
    )
    return server


def run_everything(settings: Settings, cluster: bool = False) -> int:
    """Start the embedded server (or cluster), unless the store is given, and every service;
    Ctrl-C stops all."""
    env = dict(os.environ)
    server = start_embedded_store(settings, cluster, env)
    address = (
        StoreAddress(env["REDIS_CLUSTER_URL"], cluster=True)
        if env.get("REDIS_CLUSTER_URL")
        else StoreAddress(env["REDIS_URL"])
    )
    env["COMMENTSTREAM_DEPLOYMENT"] = asyncio.run(establish_deployment(address, settings))
    if settings.signing_key_file is None:
        signing_key = settings.data_dir / "signing-key.pem"
        create_signing_key(signing_key)
        env["COMMENTSTREAM_SIGNING_KEY_FILE"] = str(signing_key)
        print(f"the log's digests are signed with {signing_key} (keep a copy elsewhere)")
    children = [Child(name, args) for name, args in SERVICES.items()]
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        for child in children:
            child.start(env)
        url = settings.public_url or f"http://{settings.host}:{settings.port}"
        print(f"commentstream is running on {url}  (Ctrl-C stops it)", flush=True)
        while not stopping:
            time.sleep(0.2)
            for child in children:
                if not stopping and child.process is not None and child.process.poll() is not None:
                    if child.process.returncode == EXIT_WIPED:
                        logger.critical("%s found the server wiped; not restarting it", child.name)
                        child.process = None
                        continue
                    child.restarts += 1
                    logger.warning(
                        "%s exited (%s); restarting", child.name, child.process.returncode
                    )
                    time.sleep(min(RESTART_BACKOFF_SECONDS * child.restarts, 10))
                    child.start(env)
    finally:
        print("stopping...", flush=True)
        for child in children:
            child.stop()
        for child in children:
            child.wait(timeout=10)
        if server is not None:
            server.stop()
        print("stopped", flush=True)
    return 0
