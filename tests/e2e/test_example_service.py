"""examples/activity_counter.py, another team's service on the client, as a process against the
running system (on one server and on the cluster): it counts every post, deletion and like of
each thread from the events, and after a kill -9 and a restart it has counted nothing twice."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import TEST_PARTITIONS
from tests.processes import ROOT, Stack, store_env, wait_until


def start_counter(stack: Stack, db: Path, log: Path) -> "subprocess.Popen[bytes]":
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REDIS_")},
        **store_env(stack.address),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "examples.activity_counter",
            "--db",
            str(db),
            "--partitions",
            str(TEST_PARTITIONS),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def counts(db: Path, thread: str) -> tuple[int, int, int] | None:
    if not db.exists():
        return None
    with sqlite3.connect(db) as connection:
        try:
            row = connection.execute(
                "select posted, deleted, likes from threads where site = 'default' and thread = ?",
                (thread,),
            ).fetchone()
        except sqlite3.OperationalError:
            return None  # not created yet
    return tuple(row) if row else None


def test_the_activity_counter_counts_every_event_once_across_a_crash(
    stack: Stack, thread_id: str, tmp_path: Path
) -> None:
    db, log = tmp_path / "activity.sqlite", tmp_path / "counter.log"
    with httpx.Client(base_url=stack.base_url, timeout=10) as api:
        token = api.post("/api/v1/session").json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        ids = [
            api.post(f"/api/v1/threads/{thread_id}/comments", json={"body": f"c{n}"}).json()["id"]
            for n in range(3)
        ]
        for comment in ids[:2]:
            assert (
                api.put(
                    f"/api/v1/threads/{thread_id}/comments/{comment}/like", headers=auth
                ).status_code
                == 200
            )
        counter = start_counter(stack, db, log)
        try:
            wait_until(lambda: counts(db, thread_id) == (3, 0, 2), 30, "the first counts")
            counter.kill()  # no goodbye: whatever was not acknowledged comes again
            counter.wait()
            api.post(f"/api/v1/threads/{thread_id}/comments", json={"body": "while it was down"})
            api.delete(f"/api/v1/threads/{thread_id}/comments/{ids[0]}/like", headers=auth)
            counter = start_counter(stack, db, log)
            wait_until(lambda: counts(db, thread_id) == (4, 0, 1), 30, "the counts after")
            time.sleep(0.5)  # nothing more comes: nothing counted twice
            assert counts(db, thread_id) == (4, 0, 1), log.read_text()[-2000:]
        finally:
            counter.kill()
            counter.wait()
