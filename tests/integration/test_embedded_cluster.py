"""The local cluster of issue 16, from the embedded server's binaries: six nodes, three masters
with a replica each, every slot served; a restart on the same ports finds the same cluster."""

from pathlib import Path

from redis.cluster import RedisCluster

from services.embedded_cluster import EmbeddedCluster
from storage.keys import PartitionKeys


def test_six_nodes_form_a_cluster_that_a_restart_keeps(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path / "cluster").start()
    ports = [node.port for node in cluster.nodes]
    try:
        client = RedisCluster(host="127.0.0.1", port=ports[0], decode_responses=True)
        nodes = client.cluster_nodes()  # every node as one node sees it
        roles = sorted(
            "master" if "master" in node["flags"] else "replica" for node in nodes.values()
        )
        assert roles == ["master"] * 3 + ["replica"] * 3
        for p in range(8):  # one key on each partition's hash tag, on whichever master
            client.set(f"{PartitionKeys(p).tag}:probe", str(p))
        # the default 8 partitions spread 3/3/2 over the masters as the cluster assigned slots
        owners = [client.get_node_from_key(f"{PartitionKeys(p).tag}:probe").name for p in range(8)]
        assert sorted(owners.count(owner) for owner in set(owners)) == [2, 3, 3]
        client.close()
    finally:
        cluster.stop()
    again = EmbeddedCluster(tmp_path / "cluster", ports=ports).start()
    try:
        client = RedisCluster(host="127.0.0.1", port=ports[0], decode_responses=True)
        probes = [client.get(f"{PartitionKeys(p).tag}:probe") for p in range(8)]
        assert probes == [str(p) for p in range(8)]
        client.close()
        assert again.url.count(",") == 5 and again.url.startswith("redis://127.0.0.1:")
    finally:
        again.stop()
