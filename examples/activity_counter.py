"""An example of another service: per thread, how many comments were posted and deleted and how
many likes it holds, kept in its own SQLite file from the events of every partition.

    REDIS_URL=redis://localhost:6379 python -m examples.activity_counter --db activity.sqlite
    (or REDIS_CLUSTER_URL=redis://h1:p1,h2:p2)

It keeps its own position (a Checkpoint) in the same transaction as the counts, so a restart,
a crash or an event delivered twice counts nothing twice: an event at or before the stored
position of its partition is acknowledged and skipped.
"""

import argparse
import asyncio
import os
import sqlite3
from pathlib import Path

from events.thread_events import CommentDeleted, CommentLiked, CommentPosted, CommentUnliked
from services.client import Checkpoint, Client, Delivery

GROUP = "activity-counter"
SCHEMA = """
create table if not exists threads (
  site text, thread text, posted integer default 0, deleted integer default 0,
  likes integer default 0, primary key (site, thread));
create table if not exists checkpoint (id integer primary key check (id = 1), positions text);
"""
CHANGES = {
    CommentPosted: ("posted", 1),
    CommentDeleted: ("deleted", 1),
    CommentLiked: ("likes", 1),
    CommentUnliked: ("likes", -1),
}


class ActivityCounter:
    def __init__(self, db: Path) -> None:
        self.db = sqlite3.connect(db)
        self.db.executescript(SCHEMA)
        row = self.db.execute("select positions from checkpoint").fetchone()
        self.checkpoint = Checkpoint.from_json(row[0]) if row else Checkpoint()

    def apply(self, delivery: Delivery) -> None:
        """Count one event, unless counted before; the checkpoint moves in the same step."""
        if self.checkpoint.covers(delivery.partition, delivery.position):
            return
        change = CHANGES.get(type(delivery.event))
        with self.db:
            if change is not None:
                column, step = change
                envelope = delivery.envelope
                self.db.execute(
                    "insert into threads (site, thread) values (?, ?) on conflict do nothing",
                    (envelope.site, envelope.thread),
                )
                self.db.execute(
                    f"update threads set {column} = {column} + ? where site = ? and thread = ?",
                    (step, envelope.site, envelope.thread),
                )
            self.checkpoint.advance(delivery.partition, delivery.position)
            self.db.execute(
                "insert into checkpoint (id, positions) values (1, ?)"
                " on conflict (id) do update set positions = excluded.positions",
                (self.checkpoint.to_json(),),
            )

    def counts(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        rows = self.db.execute("select site, thread, posted, deleted, likes from threads")
        return {(site, thread): (p, d, likes) for site, thread, p, d, likes in rows}


async def run(url: str, cluster: bool, partitions: int, db: Path) -> None:
    counter = ActivityCounter(db)
    start = counter.checkpoint.positions or "beginning"
    async with await Client.connect(url, partitions, cluster=cluster, service=GROUP) as client:
        async for delivery in client.events(GROUP, start, consumer=f"{GROUP}-{os.getpid()}"):
            counter.apply(delivery)
            await delivery.ack()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("activity.sqlite"))
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()
    cluster_url = os.environ.get("REDIS_CLUSTER_URL")
    url = cluster_url or os.environ.get("REDIS_URL", "redis://localhost:6379")
    asyncio.run(run(url, cluster_url is not None, args.partitions, args.db))


if __name__ == "__main__":
    main()
