"""compose.yaml parses, Redis keeps an AOF, and every service runs a real subcommand."""

import tomllib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from projections.registry import PROJECTIONS
from services.cli import ProjectionName, app

ROOT = Path(__file__).resolve().parents[2]


def parse(args: list[str]) -> str:
    """Check a command line names a real subcommand with valid arguments; returns its name."""
    name, *rest = args
    names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    if name not in names:
        raise ValueError(f"no such command {name!r}")
    if name == "project":
        [projection] = rest
        ProjectionName(projection)
    else:
        assert rest == [], rest
    assert CliRunner().invoke(app, [*args, "--help"]).exit_code == 0
    return name


def test_the_cli_knows_every_projection() -> None:
    assert {p.value for p in ProjectionName} == set(PROJECTIONS)


def test_compose_file_runs_real_commentstream_subcommands() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    redis_command = services["redis"]["command"]
    assert "--appendonly yes" in redis_command and "--user default off" in redis_command
    commands = {
        name: s["command"]
        for name, s in services.items()
        if name != "redis" and "profiles" not in s  # the cluster profile: below
    }
    assert len(commands) == 3 + len(PROJECTIONS)  # gateway, processor, webhooks, projectors
    for name, command in commands.items():
        assert command[0] == "commentstream", name
        assert parse(command[1:]) in {"gateway", "processor", "project", "webhooks"}
        assert services[name]["environment"]["REDIS_URL"].endswith("@redis:6379/0")
    projections = {c[2] for c in commands.values() if c[1] == "project"}
    assert projections == set(PROJECTIONS)


def test_the_cluster_profile_runs_the_same_services_on_six_nodes_with_the_same_users() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    single_users = services["redis"]["command"][services["redis"]["command"].index("--user ") :]
    nodes = {name: s for name, s in services.items() if name.startswith("redis-node-")}
    assert len(nodes) == 6
    addresses = set()
    for node in nodes.values():
        assert node["profiles"] == ["cluster"]
        command = node["command"]
        assert "--cluster-enabled yes" in command and "--appendonly yes" in command
        assert "--masteruser admin" in command  # replicas sync as admin: default is off
        # the single server's users, each also allowed to ask for the slots
        cluster_rights = " +cluster|slots +cluster|shards +cluster|nodes +cluster|info"
        assert command[command.index("--user ") :] == single_users.replace(
            " %R~cs:*", cluster_rights + " %R~cs:*"
        )
        [address] = [n["ipv4_address"] for n in node["networks"].values()]
        addresses.add(f"{address}:6379")
    init = services["cluster-init"]["command"]
    assert "--cluster-replicas 1" in init and all(a in init for a in addresses)
    single = {name: s for name, s in services.items() if "profiles" not in s and name != "redis"}
    for name, service in single.items():
        twin = services[f"cluster-{name}"]
        assert twin["command"] == service["command"] and twin["profiles"] == ["cluster"]
        url = twin["environment"]["REDIS_CLUSTER_URL"]
        user = service["environment"]["REDIS_URL"].split("://")[1].split(":")[0]
        assert url.startswith(f"redis://{user}:")
        assert set(url.split("@")[1].split(",")) <= addresses


@pytest.mark.parametrize("bad", [["project", "nope"], ["serve"]])
def test_unknown_subcommands_are_refused(bad: list[str]) -> None:
    with pytest.raises(ValueError):
        parse(bad)


def test_the_image_holds_every_package_it_installs() -> None:
    """Each top-level package pyproject installs is copied into the image before `pip install`
    (an image without one installs, then fails to start)."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    wanted = {pattern.rstrip("*") for pattern in packages["packages"]["find"]["include"]}
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    install = next(i for i, line in enumerate(lines) if line.startswith("RUN pip install"))
    copied = {line.split()[1] for line in lines[:install] if line.startswith("COPY ")}
    assert wanted <= copied, wanted - copied
    assert lines[-1].startswith('CMD ["commentstream"')
