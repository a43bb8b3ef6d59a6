"""`make run`: start everything on the embedded server, post, stop with Ctrl-C, start again."""

import os
import signal
import subprocess
from pathlib import Path

import httpx

from services.embedded import free_port
from services.gateway.demo.content import COMMENTS, THREAD
from tests.processes import ROOT, http_ok, wait_until


def make_run(data_dir: Path, port: int, log: Path, target: str = "run") -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CLUSTER_URL")}
    env |= {"COMMENTSTREAM_DATA_DIR": str(data_dir), "PORT": str(port)}
    return subprocess.Popen(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def ctrl_c(process: subprocess.Popen[bytes], log: Path) -> None:
    """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
    before = log.read_text().count("stopped\n")
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)  # make itself dies of the signal; what it ran must stop cleanly
    assert log.read_text().count("stopped\n") == before + 1, log.read_text()[-3000:]


def test_make_run_keeps_comments_across_restarts(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "make-run.log"
    first = make_run(tmp_path / "data", port, log)
    try:
        wait_until(lambda: http_ok(base + "/readyz"), 60, "make run to be ready")
        written = httpx.post(
            base + "/api/v1/threads/smoke/comments", json={"body": "still here?"}, timeout=10
        )
        assert written.status_code == 201, written.text
        comment_id = written.json()["id"]

        def demo_seeded() -> bool:  # on its embedded server, `up` seeds the demo post
            demo = httpx.get(f"{base}/api/v1/threads/{THREAD}", timeout=10).json()
            return demo["count"] == len(COMMENTS)

        wait_until(demo_seeded, 30, "the demo post's comments")
    finally:
        ctrl_c(first, log)
    assert "commentstream is running on" in log.read_text()
    assert (tmp_path / "data" / "appendonlydir").is_dir()

    second = make_run(tmp_path / "data", port, log)
    try:
        wait_until(lambda: http_ok(base + "/readyz"), 60, "make run to be ready again")
        view = httpx.get(base + "/api/v1/threads/smoke", timeout=10).json()
        assert [c["id"] for c in view["comments"]] == [comment_id]
        assert view["comments"][0]["html"] == "<p>still here?</p>\n"
    finally:
        ctrl_c(second, log)
