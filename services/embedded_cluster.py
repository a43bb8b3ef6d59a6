"""A Redis Cluster started by commentstream itself, from the embedded server's own binaries
(services/embedded.py): masters with their replicas on loopback, each node with its AOF and its
cluster state (`nodes.conf`) in a directory of its own, so that a restart on the same ports
finds the same cluster. No system Redis is needed."""

import random
import socket
import subprocess
import time
from pathlib import Path

import redis

from services.embedded import EmbeddedRedis, cli_binary

FORM_TIMEOUT_SECONDS = 30.0


class EmbeddedCluster:
    """`masters` masters with `replicas` replicas each (3 and 1: the six nodes an operator's
    smallest production cluster has), on `ports` or free ones."""

    def __init__(
        self,
        data_dir: Path,
        masters: int = 3,
        replicas: int = 1,
        ports: list[int] | None = None,
        node_timeout_ms: int = 2000,
        extra_args: list[str] | None = None,
        password: str | None = None,
        fsync: str = "everysec",
    ) -> None:
        count = masters * (1 + replicas)
        ports = ports or free_cluster_ports(count)
        if len(ports) != count:
            raise ValueError(f"{count} nodes need {count} ports, not {len(ports)}")
        self.data_dir = data_dir
        self.masters = masters
        self.replicas = replicas
        cluster_args = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            str(node_timeout_ms),
            # a replica's first full sync at once (the default waits 5 s for more replicas):
            # until it has synced, it cannot take over from its master
            "--repl-diskless-sync-delay",
            "0",
        ]
        self.password = password  # of the user `admin`, when extra_args set up users
        self.nodes = [
            EmbeddedRedis(
                data_dir / str(port),
                port=port,
                fsync=fsync,
                extra_args=cluster_args + (extra_args or []),
                password=password,
            )
            for port in ports
        ]

    @staticmethod
    def kept_ports(data_dir: Path) -> list[int] | None:
        """The ports of the cluster in `data_dir`, if one was started there (each node's
        directory is named by its port, and its nodes.conf holds them): a restart must use
        them again. None for a new cluster."""
        ports = sorted(
            int(node.name)
            for node in (data_dir.iterdir() if data_dir.is_dir() else [])
            if node.name.isdigit() and (node / "nodes.conf").exists()
        )
        return ports or None

    @property
    def url(self) -> str:
        """Every node as a seed: `redis://127.0.0.1:P1,127.0.0.1:P2,...` (REDIS_CLUSTER_URL),
        as `admin` when the nodes have users."""
        if self.password:
            return self.url_for("admin", self.password)
        return "redis://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def url_for(self, user: str, password: str) -> str:
        seeds = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"redis://{user}:{password}@{seeds}"

    def start(self) -> "EmbeddedCluster":
        """Start every node; form the cluster unless they already are one (a restart)."""
        try:
            for node in self.nodes:
                node.start()
            if not self._formed():
                self._create()
            self._wait_until_ok()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def _formed(self) -> bool:
        """Whether the nodes already know each other (their nodes.conf, after a restart): then
        they need time to agree again, not a new cluster."""
        return all(
            _cluster_info(node, self.password).get("cluster_known_nodes", "1") != "1"
            for node in self.nodes
        )

    def _create(self) -> None:
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [
                cli_binary(),
                *(["--user", "admin", "--pass", self.password] if self.password else []),
                "--no-auth-warning",
                "--cluster",
                "create",
                *addresses,
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=FORM_TIMEOUT_SECONDS,
        )

    def _wait_until_ok(self) -> None:
        """Every node sees every slot served and the cluster's every node, and every replica
        has synced with its master (before that, it could not take over)."""
        deadline = time.monotonic() + FORM_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            infos = [_cluster_info(node, self.password) for node in self.nodes]
            if all(
                info.get("cluster_state") == "ok"
                and info.get("cluster_slots_assigned") == "16384"
                and info.get("cluster_known_nodes") == str(len(self.nodes))
                for info in infos
            ) and all(_synced(node, self.password) for node in self.nodes):
                return
            time.sleep(0.1)
        raise RuntimeError(f"the cluster did not form in {FORM_TIMEOUT_SECONDS:.0f} s")


BUS_PORT_OFFSET = 10_000  # a node's cluster bus listens on its port + 10,000


CLUSTER_PORTS = range(20_000, 22_768)
"""Where a new cluster's nodes listen: with their bus ports (30,000 to 32,767) below Linux's
ephemeral range (32,768 on), so that no outgoing connection takes one between the choice and
the bind, as it can a port the kernel handed out as free (free_port)."""


def free_cluster_ports(count: int) -> list[int]:
    """`count` loopback ports free now with their bus ports."""
    found: list[int] = []
    candidates = list(CLUSTER_PORTS)
    random.shuffle(candidates)
    for port in candidates:
        if _free(port) and _free(port + BUS_PORT_OFFSET):
            found.append(port)
            if len(found) == count:
                return found
    raise RuntimeError(f"no {count} free ports with their bus ports in {CLUSTER_PORTS}")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _admin(node: EmbeddedRedis, password: str | None) -> redis.Redis:
    return redis.Redis(
        port=node.port,
        socket_timeout=2,
        decode_responses=True,
        username="admin" if password else None,
        password=password,
    )


def _synced(node: EmbeddedRedis, password: str | None) -> bool:
    """A master, or a replica whose link to its master is up (its first sync done)."""
    client = _admin(node, password)
    try:
        replication = client.info("replication")
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()
    return replication.get("role") == "master" or replication.get("master_link_status") == "up"


def _cluster_info(node: EmbeddedRedis, password: str | None) -> dict[str, str]:
    """CLUSTER INFO of one node ({} while it does not answer)."""
    client = _admin(node, password)
    try:
        raw = client.execute_command("CLUSTER INFO")
    except redis.exceptions.RedisError:
        return {}
    finally:
        client.close()
    return {str(key): str(value) for key, value in raw.items()}  # parsed by redis-py
