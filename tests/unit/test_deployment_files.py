"""compose.yaml parses, Redis keeps an AOF, and every service runs a real subcommand."""

from pathlib import Path

import pytest
import yaml

from projections.registry import PROJECTIONS
from services.cli import PROJECTION_NAMES, build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_the_cli_knows_every_projection() -> None:
    assert set(PROJECTION_NAMES) == set(PROJECTIONS)


def test_compose_file_runs_real_commentstream_subcommands() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command
    commands = {name: s["command"] for name, s in services.items() if name != "redis"}
    assert len(commands) == 4
    parser = build_parser()
    for name, command in commands.items():
        assert command[0] == "commentstream", name
        parsed = parser.parse_args(command[1:])
        assert parsed.command in {"gateway", "processor", "project"}
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://redis:")
    projections = {c[2] for c in commands.values() if c[1] == "project"}
    assert projections == set(PROJECTIONS)


@pytest.mark.parametrize("bad", [["project", "nope"], ["serve"]])
def test_unknown_subcommands_are_refused(bad: list[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(bad)


def test_dockerfile_installs_the_project() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile and "commentstream" in dockerfile
