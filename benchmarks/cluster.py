"""The suite's write and read lines on the local cluster with 1 shard and with 3 (each master
with one replica), same machine, one run (issue 16):

    python -m benchmarks.cluster                  (make bench-cluster)
    python -m benchmarks.cluster --scale 0.02     (its short version, in CI)

Three layouts: one shard; three shards with one processor and one projector of each kind (as
on one server); three shards with a processor and projectors per shard, each owning its
shard's partitions (COMMENTSTREAM_OWN_PARTITIONS), the layout that scales out with cores.
Per layout: new comments at concurrency 16 on 50 threads (rate, p99, CPU per comment by
process, each node its own line), a 1,000-comment thread read whole and first page at
concurrency 16; then, per shard, its partitions, its share of the writes in the log and its
master's share of the masters' CPU during them. On two cores more shards cannot mean more
throughput (every process shares the same cores); what the run shows is that the cost per
comment does not grow with shards and that each shard's load follows its share of partitions.
docs/benchmarks.md says how it is expected to scale on more cores, where it runs unchanged.
"""

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from benchmarks import phases, report
from benchmarks.ours import Commentstream, stack_environment
from benchmarks.phases import Plan
from benchmarks.subjects import BODY_300
from services.embedded_cluster import EmbeddedCluster
from services.operations.cluster_status import ClusterStatus, cluster_status
from services.processor.signer import create_signing_key
from services.settings import Settings
from services.supervisor import SERVICES
from storage.connection import StoreAddress, connect
from storage.keys import HEARTBEATS
from storage.log_reader import close_client
from tests.processes import ServiceProcess, Stack, start_services, stop_stack, wait_until


@dataclass(frozen=True)
class Layout:
    name: str
    masters: int
    per_shard: bool  # a processor and each projector per shard, owning its partitions

    @property
    def title(self) -> str:
        shards = f"{self.masters} shard{'s' * (self.masters > 1)}"
        return shards + (", a process per shard" if self.per_shard else "")


def layouts(shards: int) -> list[Layout]:
    """One shard; `shards` shards as on one server; `shards` shards with processes per shard."""
    return [
        Layout("1", 1, False),
        Layout(str(shards), shards, False),
        Layout(f"{shards}-per-shard", shards, True),
    ]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def start_cluster_stack(scratch: Path, layout: Layout) -> Stack:
    """The cluster and the services; per shard, its own processor and projectors, each owning
    that shard's partitions (COMMENTSTREAM_OWN_PARTITIONS)."""
    signing_key = scratch / "signing-key.pem"
    create_signing_key(signing_key)
    environment = stack_environment() | {"COMMENTSTREAM_SIGNING_KEY_FILE": str(signing_key)}
    cluster = EmbeddedCluster(scratch / "cluster", masters=layout.masters, replicas=1).start()
    if not layout.per_shard:
        return start_services(cluster, scratch, environment)
    status = uvloop.run(_status(cluster))
    owned = [",".join(str(p) for p in shard.partitions) for shard in status.shards]
    stack = start_services(
        cluster, scratch, environment | {"COMMENTSTREAM_OWN_PARTITIONS": owned[0]}
    )
    for shard, partitions in enumerate(owned[1:], start=1):
        for name, args in SERVICES.items():
            if name not in ("gateway", "webhooks"):  # one of each serves every partition
                env = stack.services[name].env | {"COMMENTSTREAM_OWN_PARTITIONS": partitions}
                stack.services[f"{name}-{shard}"] = ServiceProcess(args, env, scratch).start()
    wait_until(lambda: all_alive(stack), 60, "every shard's processes")
    return stack


def all_alive(stack: Stack) -> bool:
    """Every service process has its heartbeat (it beats before it takes its first entry)."""
    client = stack.client()
    try:
        beating = {str(name).rpartition(":")[2] for name in client.zrange(HEARTBEATS, 0, -1)}
    finally:
        client.close()
    workers = [s for name, s in stack.services.items() if name not in ("gateway", "webhooks")]
    return {str(s.process.pid) for s in workers if s.process is not None} <= beating


async def _status(cluster: EmbeddedCluster) -> ClusterStatus:
    redis = connect(StoreAddress(cluster.url, cluster=True))
    try:
        return await cluster_status(redis, Settings().partitions)
    finally:
        await close_client(redis)


async def measure(stack: Stack, plan: Plan) -> dict[str, Any]:
    partitions = Settings().partitions
    subject = Commentstream(stack, partitions)
    try:
        before = await cluster_status(subject.redis, partitions)
        writes = await phases.costed(
            subject, plan, 16, lambda n: subject.new_comment(phases.post_thread(n), BODY_300)
        )
        status = await cluster_status(subject.redis, partitions)  # the writes' share of the log
        reads = await phases.thread_reads(subject, plan)
    finally:
        await subject.close()
    written_before = {shard.master: shard.log_entries for shard in before.shards}
    for shard in status.shards:
        shard.log_entries -= written_before.get(shard.master, 0)
    assert isinstance(stack.store, EmbeddedCluster)
    masters_cpu = {
        shard.master: writes["cpu_ms_per_comment_by_process"].get(
            f"redis-{shard.master.rpartition(':')[2]}", 0.0
        )
        for shard in status.shards
    }
    total_cpu = sum(masters_cpu.values()) or 1.0
    shards = [
        {
            "master": shard.master,
            "partitions": shard.partitions,
            "partition_share": round(len(shard.partitions) / partitions, 3),
            "log_share": round(shard.log_entries / max(status.log_entries, 1), 3),  # of the writes
            "master_cpu_ms_per_comment": masters_cpu[shard.master],
            "master_cpu_share": round(masters_cpu[shard.master] / total_cpu, 3),
        }
        for shard in status.shards
    ]
    return {"new_comments_16": writes, "thread_reads": reads, "shards": shards}


def table(results: dict[str, Any], run: list[Layout]) -> str:
    lines = [
        "| measure | " + " | ".join(layout.title for layout in run) + " |",
        "|---|" + "---|" * len(run),
    ]

    def row(name: str, cell: Any) -> None:
        cells = [cell(results[layout.name]) for layout in run]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    row("new comments, c16", lambda r: report.load_cell(r["new_comments_16"]))
    row("CPU per comment, c16", lambda r: f"{r['new_comments_16']['cpu_ms_per_comment']:.2f} ms")
    row(
        "of which Redis (all nodes)",
        lambda r: f"{redis_cpu(r['new_comments_16']):.2f} ms",
    )
    row("thread of 1,000, whole, c16", lambda r: report.load_cell(r["thread_reads"]["whole"]))
    row("first page, c16", lambda r: report.load_cell(r["thread_reads"]["first_page"]))
    row(
        "shards: partitions / log share / master CPU share",
        lambda r: "<br>".join(
            f"{len(s['partitions'])} / {s['log_share']:.0%} / {s['master_cpu_share']:.0%}"
            for s in r["shards"]
        ),
    )
    return "\n".join(lines)


def redis_cpu(writes: dict[str, Any]) -> float:
    by_process: dict[str, float] = writes["cpu_ms_per_comment_by_process"]
    return sum(ms for name, ms in by_process.items() if name.startswith("redis"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full sizes")
    parser.add_argument("--output", type=Path, default=None, help="where to write the JSON")
    parser.add_argument(
        "--shards", type=int, default=3, help="masters of the larger cluster (3: the default)"
    )
    args = parser.parse_args()
    run = layouts(args.shards)
    plan = Plan(args.scale)
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for layout in run:
        with tempfile.TemporaryDirectory(prefix="commentstream-bench-cluster-") as scratch:
            say(f"{layout.title}: starting the cluster and the stack")
            stack = start_cluster_stack(Path(scratch), layout)
            try:
                results[layout.name] = uvloop.run(measure(stack, plan))
            finally:
                stop_stack(stack)
    document = {
        "machine": report.machine({}),
        "settings": {
            "scale": args.scale,
            "partitions": Settings().partitions,
            "layouts": [asdict(layout) for layout in run],
        },
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
        "table": table(results, run),
    }
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    output = args.output or report.ROOT / "bench-results" / f"cluster-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    print(document["table"])
    print(f"\nwritten to {output} ({document['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
