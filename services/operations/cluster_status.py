"""`commentstream cluster status`: which shard (master) holds which partitions, and each
shard's share of the log, so an operator sees whether the partitions spread (storage/keys.py)."""

from dataclasses import dataclass, field
from typing import Any

from storage.connection import Store, is_cluster
from storage.keys import PartitionKeys, partition_slot


@dataclass
class Shard:
    master: str  # host:port
    replicas: list[str] = field(default_factory=list)  # host:port (health)
    slots: list[tuple[int, int]] = field(default_factory=list)
    partitions: list[int] = field(default_factory=list)
    log_entries: int = 0

    def holds(self, slot: int) -> bool:
        return any(first <= slot <= last for first, last in self.slots)


@dataclass
class ClusterStatus:
    shards: list[Shard]
    partitions: int

    @property
    def log_entries(self) -> int:
        return sum(shard.log_entries for shard in self.shards)

    @property
    def spread(self) -> int:
        """How many more partitions the fullest shard has than the emptiest."""
        counts = [len(shard.partitions) for shard in self.shards]
        return max(counts) - min(counts)

    def advice(self) -> str | None:
        if self.spread <= 1:
            return None
        return (
            f"{self.partitions} partitions on {len(self.shards)} shards: partitions per shard"
            f" differ by {self.spread}. Give each master an equal run of slots"
            " (valkey-cli --cluster rebalance), and pick a power of two for"
            " COMMENTSTREAM_PARTITIONS (README: Running on Redis Cluster)"
        )

    def as_json(self) -> dict[str, Any]:
        total = self.log_entries
        return {
            "partitions": self.partitions,
            "log_entries": total,
            "spread": self.spread,
            "shards": [
                {
                    "master": shard.master,
                    "replicas": shard.replicas,
                    "slots": [list(run) for run in shard.slots],
                    "partitions": shard.partitions,
                    "log_entries": shard.log_entries,
                    "log_share": round(shard.log_entries / total, 4) if total else 0.0,
                }
                for shard in self.shards
            ],
        }


async def cluster_status(redis: Store, partitions: int) -> ClusterStatus:
    shards = await _shards(redis)
    async with redis.pipeline(transaction=False) as pipe:
        for p in range(partitions):
            pipe.xlen(PartitionKeys(p).events)
        lengths = await pipe.execute()
    for p, length in enumerate(lengths):
        owner = next(shard for shard in shards if shard.holds(partition_slot(p)))
        owner.partitions.append(p)
        owner.log_entries += int(length)
    return ClusterStatus(shards, partitions)


async def _shards(redis: Store) -> list[Shard]:
    if not is_cluster(redis):
        return [Shard("the server", slots=[(0, 16383)])]
    shards = []
    for reply in await redis.cluster_shards():
        nodes = reply["nodes"]
        master = next((n for n in nodes if n["role"] == "master"), None)
        if master is None or not reply["slots"]:
            continue  # a master without slots (yet), or one that failed and has no successor
        shards.append(
            Shard(
                f"{master['ip']}:{master['port']}",
                replicas=[
                    f"{n['ip']}:{n['port']} ({n['health']})" for n in nodes if n["role"] != "master"
                ],
                slots=sorted((int(first), int(last)) for first, last in reply["slots"]),
            )
        )
    return sorted(shards, key=lambda shard: shard.slots[0])


def status_lines(status: ClusterStatus) -> list[str]:
    total = status.log_entries
    lines = [
        f"{'shard (master)':<22} {'partitions':<28} {'log entries':>12} {'share':>6}  replicas"
    ]
    for shard in status.shards:
        share = f"{shard.log_entries / total:.0%}" if total else "-"
        listed = ",".join(str(p) for p in shard.partitions) or "-"
        lines.append(
            f"{shard.master:<22} {f'{len(shard.partitions)}: {listed}':<28}"
            f" {shard.log_entries:>12,} {share:>6}  {', '.join(shard.replicas) or '-'}"
        )
    advice = status.advice()
    lines.append(advice or f"{status.partitions} partitions spread: at most one more on a shard")
    return lines
