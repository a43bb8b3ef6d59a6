"""compose.yaml's Redis users, on a real server: the whole flow works with each service under its
own user, and what a service must not do is refused (the gateway cannot write the log or the
read models, projectors cannot append events, nobody can flush)."""

import asyncio
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis
import redis.cluster
import yaml

from services.embedded import EmbeddedRedis, free_port
from services.embedded_cluster import EmbeddedCluster
from services.settings import Settings
from services.supervisor import establish_deployment
from storage.connection import StoreAddress
from storage.keys import PartitionKeys
from tests.processes import ROOT, ServiceProcess, http_ok, wait_until

PASSWORDS = {
    "REDIS_ADMIN_PASSWORD": "admin-pw",
    "REDIS_GATEWAY_PASSWORD": "gateway-pw",
    "REDIS_PROCESSOR_PASSWORD": "processor-pw",
    "REDIS_PROJECTOR_PASSWORD": "projector-pw",
    "REDIS_WEBHOOKS_PASSWORD": "webhooks-pw",
}


def compose_redis_args() -> list[str]:
    """The redis-server arguments of compose.yaml, interpolated and split as compose does."""
    command = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["redis"]["command"]
    words = shlex.split(re.sub(r"\$\{(\w+)[^}]*\}", lambda m: PASSWORDS[m.group(1)], command))
    assert words[0] == "redis-server"
    return words[1:]


@pytest.fixture
def acl_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = EmbeddedRedis(
        tmp_path / "redis",
        extra_args=compose_redis_args(),
        password=PASSWORDS["REDIS_ADMIN_PASSWORD"],
    ).start()
    yield server
    server.stop()


SERVICES_AND_USERS = (
    (["processor"], "processor"),
    (["project", "thread_view"], "projector"),
    (["project", "like_counts"], "projector"),
    (["project", "moderation"], "projector"),
    (["webhooks"], "webhooks"),
    (["gateway"], "gateway"),
)


def start_under_users(
    common: dict[str, str],
    store_for: Callable[[str, str], dict[str, str]],
    logs_dir: Path,
) -> list[ServiceProcess]:
    """Every service under its own Redis user (`store_for(user, password)`: where it connects),
    once /readyz says all are up (the gateway on common's PORT)."""
    services = [
        ServiceProcess(
            args, common | store_for(user, PASSWORDS[f"REDIS_{user.upper()}_PASSWORD"]), logs_dir
        ).start()
        for args, user in SERVICES_AND_USERS
    ]
    base = f"http://127.0.0.1:{common['PORT']}"
    try:
        wait_until(lambda: http_ok(base + "/readyz"), 40, "the stack under ACL users")
    except BaseException:
        for service in services:
            service.stop()
        raise
    return services


def client(server: EmbeddedRedis, user: str) -> redis.Redis:
    password = PASSWORDS[f"REDIS_{user.upper()}_PASSWORD"]
    return redis.Redis.from_url(
        server.url_for(user, password), decode_responses=True, encoding_errors="surrogateescape"
    )


def test_each_service_works_under_its_own_user_and_no_further(
    acl_server: EmbeddedRedis, logs_dir: Path
) -> None:
    deployment = asyncio.run(establish_deployment(acl_server.url, Settings()))
    port = free_port()
    common = {
        "COMMENTSTREAM_PARTITIONS": "4",
        "COMMENTSTREAM_SECRET": "acl-secret",
        "COMMENTSTREAM_DEPLOYMENT": deployment,
        "PORT": str(port),
        "COMMENTSTREAM_MIN_SECONDS_TO_SUBMIT": "0",
    }

    services = start_under_users(
        common,
        lambda user, pw: {"REDIS_URL": acl_server.socket_url_for(user, pw)},
        logs_dir,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as api:
            written = api.post("/api/v1/threads/acl/comments", json={"body": "under ACL"}).json()
            reader = api.post("/api/v1/session").json()["token"]
            liked = api.put(
                f"/api/v1/threads/acl/comments/{written['id']}/like",
                headers={"Authorization": f"Bearer {reader}"},
            )
            assert liked.status_code == 200, liked.text
            view = api.get("/api/v1/threads/acl", params={"min_position": liked.json()["position"]})
            assert view.json()["count"] == 1
            assert view.json()["comments"][0]["likes"]["count"] == 1
        # every service still up under its user (the webhooks one reads the log in its group)
        assert [s.args for s in services if s.process and s.process.poll() is not None] == []
    finally:
        for service in services:
            service.stop()

    view_meta = PartitionKeys(0).projection("thread_view", 0).meta("default", "acl")
    forbidden = [
        ("gateway", lambda c: c.xadd(PartitionKeys(0).events, {"event": "forged"})),
        ("gateway", lambda c: c.hset(view_meta, "count", "99")),
        ("gateway", lambda c: c.flushall()),
        ("projector", lambda c: c.xadd(PartitionKeys(1).events, {"event": "forged"})),
        ("projector", lambda c: c.xadd(PartitionKeys(1).commands, {"command": "{}"})),
        ("processor", lambda c: c.hset(view_meta, "count", "99")),
        ("processor", lambda c: c.config_set("appendonly", "no")),
        ("webhooks", lambda c: c.xadd(PartitionKeys(0).events, {"event": "forged"})),
        ("webhooks", lambda c: c.hset(view_meta, "count", "99")),
    ]
    for user, action in forbidden:
        connection = client(acl_server, user)
        with pytest.raises(redis.exceptions.NoPermissionError):
            action(connection)
        connection.close()
    anonymous = redis.Redis.from_url(acl_server.plain_url)
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.ping()


def compose_cluster_node_args() -> list[str]:
    """The redis-server arguments of compose's cluster profile nodes, interpolated, without
    the ones the local cluster sets itself (cluster mode, node timeout, AOF)."""
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    command = services["redis-node-1"]["command"]
    words = shlex.split(re.sub(r"\$\{(\w+)[^}]*\}", lambda m: PASSWORDS[m.group(1)], command))
    assert words[0] == "redis-server"
    own = {"--cluster-enabled", "--cluster-config-file", "--cluster-node-timeout"}
    kept, skip = [], False
    for word in words[1:]:
        if word in own:
            skip = True  # and its value
        elif skip:
            skip = False
        else:
            kept.append(word)
    return kept


@pytest.mark.cluster
def test_the_cluster_profile_users_work_on_a_cluster_and_no_further(
    tmp_path: Path, logs_dir: Path
) -> None:
    """compose's cluster nodes (their users, replicas syncing as admin) on a local cluster:
    every service under its own user follows the cluster, and is refused as on one server."""
    cluster = EmbeddedCluster(
        tmp_path / "cluster",
        extra_args=compose_cluster_node_args(),
        password=PASSWORDS["REDIS_ADMIN_PASSWORD"],
    ).start()
    try:
        deployment = asyncio.run(
            establish_deployment(StoreAddress(cluster.url, cluster=True), Settings())
        )
        port = free_port()
        common = {
            "COMMENTSTREAM_PARTITIONS": "4",
            "COMMENTSTREAM_SECRET": "acl-secret",
            "COMMENTSTREAM_DEPLOYMENT": deployment,
            "PORT": str(port),
            "COMMENTSTREAM_MIN_SECONDS_TO_SUBMIT": "0",
            "COMMENTSTREAM_ACK_REPLICAS": "1",  # WAIT is allowed too
        }

        services = start_under_users(
            common,
            lambda user, pw: {"REDIS_CLUSTER_URL": cluster.url_for(user, pw)},
            logs_dir,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=10) as api:
                for n in range(8):  # threads on every partition, so every master
                    written = api.post(f"/api/v1/threads/acl-{n}/comments", json={"body": "hi"})
                    assert written.status_code == 201, written.text
                view = api.get(
                    "/api/v1/threads/acl-7", params={"min_position": written.json()["position"]}
                )
                assert view.json()["count"] == 1
        finally:
            for service in services:
                service.stop()
        seed = cluster.nodes[0].port
        for user, forbidden in (
            ("gateway", lambda c: c.xadd(PartitionKeys(0).events, {"event": "forged"})),
            ("projector", lambda c: c.xadd(PartitionKeys(1).commands, {"command": "{}"})),
            ("processor", lambda c: c.flushall()),
        ):
            connection = redis.cluster.RedisCluster(
                host="127.0.0.1",
                port=seed,
                username=user,
                password=PASSWORDS[f"REDIS_{user.upper()}_PASSWORD"],
            )
            with pytest.raises(redis.exceptions.NoPermissionError):
                forbidden(connection)
            connection.close()
    finally:
        cluster.stop()
