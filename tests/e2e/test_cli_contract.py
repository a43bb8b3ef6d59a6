"""A service in any language: the README's redis-cli lines, run as they are with the embedded
`valkey-cli` (no Python on the path of the command), post a comment; its outcome and its
events are read back the same way."""

import asyncio
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from services.embedded import EmbeddedRedis, cli_binary
from storage.connection import connect
from storage.event_store import ensure_command_groups
from tests.processes import ROOT, ServiceProcess, wait_until

BLOCK = re.compile(r"<!-- cli-example:.*?-->\s*```sh\n(.*?)```", re.DOTALL)


def readme_commands() -> list[list[str]]:
    [block] = BLOCK.findall((ROOT / "README.md").read_text())
    return [shlex.split(line)[1:] for line in block.splitlines() if line.startswith("redis-cli")]


@pytest.fixture
def server(tmp_path: Path) -> Any:
    server = EmbeddedRedis(tmp_path / "redis").start()
    yield server
    server.stop()


def test_the_readme_redis_cli_lines_post_a_comment_and_read_it_back(
    server: EmbeddedRedis, logs_dir: Path
) -> None:
    async def groups() -> None:
        redis = connect(server.url)
        await ensure_command_groups(redis, 8)  # as the deployment's processor leaves them
        await redis.aclose()

    asyncio.run(groups())
    processor = ServiceProcess(
        ["processor"],
        {"REDIS_URL": server.url, "COMMENTSTREAM_PARTITIONS": "8", "COMMENTSTREAM_SECRET": "x"},
        logs_dir,
    ).start()

    def cli(args: list[str]) -> str:
        done = subprocess.run(
            [cli_binary(), "-p", str(server.port), *args],
            capture_output=True,
            timeout=10,
            check=True,
        )
        return done.stdout.decode(errors="replace")  # (field `p` is sealed bytes)

    try:
        xadd, get_outcome, xread = readme_commands()
        assert re.fullmatch(r"\d+-\d+\n", cli(xadd))  # the new entry's id
        wait_until(lambda: cli(get_outcome).strip() != "", 20, "the outcome record")
        outcome = json.loads(cli(get_outcome))
        assert outcome["status"] == "accepted" and outcome["comment_id"]
        log = cli(xread)
        envelopes = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        assert [e["t"] for e in envelopes] == ["ThreadStarted", "CommentPosted"]
        assert envelopes[1]["d"]["comment_id"] == outcome["comment_id"]
    finally:
        processor.stop()
