"""Isso (https://pypi.org/project/isso/) as a peer to benchmark side by side with commentstream.

    python -m benchmarks.peer_isso        (smoke check: install, start, a few requests, stop)

Isso is installed at benchmark time into a git-ignored venv (`.bench-peer/isso-venv`); none of
its code is in this repository. The server runs with `isso -c CONF run`, which is werkzeug's
development server with a thread per request (gevent would be used if it were installed; it is
not). Every SQL statement opens its own SQLite connection and thread creation and inserts are
serialised by one lock, so writes do not scale with concurrency.

Remote addresses: werkzeug's ProxyFix in Isso trusts the last X-Forwarded-For hop, and Isso keeps
only the /24 of an IPv4 address. The request builders take
`client_ip` to act as distinct users. POSTs carry JSON (Isso refuses form bodies).
"""

import asyncio
import subprocess
import tempfile
import time
import venv
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode, urlsplit

import httpx

from benchmarks.loadgen import Connection, Request, Response, json_request
from services.embedded import free_port

ISSO_PIN = "isso==0.14.*"
DEFAULT_ROOT = Path(__file__).resolve().parent.parent / ".bench-peer"
START_TIMEOUT_S = 30.0


def _installed_version(python: Path) -> str | None:
    """The isso version installed for `python`, or None."""
    probe = "import importlib.metadata as m; print(m.version('isso'))"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def _pip_install(python: Path, requirement: str) -> bool:
    """pip-install one requirement; True on success."""
    command = [str(python), "-m", "pip", "install", "--quiet", requirement]
    return subprocess.run(command, check=False).returncode == 0


def ensure_isso_venv(root: Path = DEFAULT_ROOT) -> Path:
    """Create `root/isso-venv` with Isso unless present; return the `isso` executable."""
    env_dir = root / "isso-venv"
    python = env_dir / "bin" / "python"
    isso = env_dir / "bin" / "isso"
    version = _installed_version(python) if python.exists() else None
    if version and isso.exists():
        return isso
    if not python.exists():
        env_dir.mkdir(parents=True, exist_ok=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    # 0.14.x is what this adapter was checked against; fall back to the newest release.
    if not _pip_install(python, ISSO_PIN) and not _pip_install(python, "isso"):
        raise RuntimeError(f"could not install Isso into {env_dir}")
    if not isso.exists():
        raise RuntimeError(f"Isso installed but {isso} is missing")
    return isso


def isso_version(isso: Path) -> str:
    """The version of Isso installed beside the `isso` executable."""
    return _installed_version(isso.parent / "python") or "unknown"


def isso_config(db_path: Path, port: int) -> str:
    """An Isso config: local SQLite, no guard, no moderation, no SMTP, nothing outbound.

    `host` is Isso's own address. Isso HEADs each host once at start-up (refused at once, since it
    is not listening yet: a harmless warning) and fetches `host + uri` for a new thread's title
    only when the POST carries no `title`; the helpers always send one.
    """
    base = f"http://127.0.0.1:{port}"
    return (
        "[general]\n"
        f"dbpath = {db_path}\n"
        f"host = {base}/\n"
        "notify = stdout\n"
        "reply-notifications = false\n"
        "gravatar = false\n"
        "latest-enabled = false\n"
        "[admin]\n"
        "enabled = false\n"
        "[moderation]\n"
        "enabled = false\n"
        "[server]\n"
        f"listen = {base}\n"
        f"public-endpoint = {base}\n"
        "reload = false\n"
        "profile = false\n"
        "[guard]\n"
        "enabled = false\n"
        "require-author = false\n"
        "require-email = false\n"
    )


class IssoServer:
    """Runs `isso -c CONF run` in a temp dir for the life of a `with` block."""

    def __init__(self, isso: Path, port: int | None = None) -> None:
        self.isso = isso
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def workdir(self) -> Path:
        """The temp dir holding the config, the database and the log."""
        if self._tmp is None:
            raise RuntimeError("IssoServer is not started")
        return Path(self._tmp.name)

    @property
    def db_path(self) -> Path:
        """Isso's SQLite database."""
        return self.workdir / "comments.db"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        """Isso's stdout and stderr."""
        return self.workdir / "isso.log"

    def start(self) -> None:
        """Write the config, start Isso and wait until it answers HTTP."""
        self._tmp = tempfile.TemporaryDirectory(prefix="isso-bench-")
        conf = self.workdir / "isso.cfg"
        conf.write_text(isso_config(self.db_path, self.port))
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [self.isso, "-c", conf, "run"],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Poll GET /config until it answers 200, or fail with the log's tail."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base_url}/config", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"Isso did not start at {self.base_url}:\n{tail}")

    def stop(self) -> None:
        """Terminate Isso and remove its temp dir."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "IssoServer":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


PAGE = 50  # the first page: top-level comments, and replies under each cut to as many


def _ip_headers(client_ip: str | None) -> tuple[tuple[str, str], ...]:
    """X-Forwarded-For for `client_ip` (Isso keeps its /24), or no header."""
    return (("X-Forwarded-For", client_ip),) if client_ip else ()


def _query(**params: str | int) -> str:
    return urlencode(params)


def new_comment_request(
    thread_uri: str, body: str, author: str = "bench", client_ip: str | None = None
) -> Request:
    """POST /new?uri=... (201 with the comment's JSON when published). Body: 3+ chars.

    The `title` spares Isso fetching the page for a new thread's title."""
    payload = {"text": body, "author": author, "title": f"Thread {thread_uri}"}
    return json_request("POST", f"/new?{_query(uri=thread_uri)}", payload, _ip_headers(client_ip))


def like_request(comment_id: int | str, client_ip: str | None = None) -> Request:
    """POST /id/<id>/like (200 with the counts).

    Isso answers 200 even when it ignores the vote: it keeps a Bloom filter of voters' /24
    addresses per comment, seeded with the author's, so a repeat like from one address, or a like
    on one's own comment, leaves the count unchanged (the body then has a "message"). After 142
    likes + dislikes a comment takes no more votes. Pass distinct `client_ip`s to count likes.
    """
    return Request("POST", f"/id/{comment_id}/like", headers=_ip_headers(client_ip))


def thread_request(thread_uri: str, limit: int | None) -> Request:
    """GET /?uri=... (all comments, oldest first), or its first `limit` top-level ones.

    With a limit, replies are cut to `limit` per comment too (`nested_limit`), as Isso's own
    embed does for its first page.
    """
    if limit is None:
        return Request("GET", f"/?{_query(uri=thread_uri)}")
    return Request("GET", f"/?{_query(uri=thread_uri, limit=limit, nested_limit=limit)}")


def count_request(uris: Sequence[str]) -> Request:
    """POST /count with a JSON list of thread URIs (answer: a list of counts)."""
    return json_request("POST", "/count", list(uris))


def liker_address(liker: int) -> str:
    """A distinct /24 for each of 65,536 likers (never the authors' 127.0.0.0/24)."""
    return f"10.{liker // 256 % 256}.{liker % 256}.7"


class IssoSubject:
    """Isso as a benchmark subject (benchmarks/subjects.py): threads are URIs `/<thread>`."""

    name = "isso"

    def __init__(self, server: IssoServer) -> None:
        self.server = server
        self.base_url = server.base_url

    def new_comment(self, thread: str, body: str) -> Request:
        return new_comment_request(f"/{thread}", body)

    def comment_id(self, response: Response) -> str:
        return str(response.json()["id"])

    async def prepare_likers(self, count: int) -> None:
        if count > 65_536:
            raise ValueError("Isso likers are told apart by /24: at most 65,536")

    def like(self, thread: str, comment_id: str, liker: int) -> Request:
        return like_request(comment_id, liker_address(liker))

    def whole_thread(self, thread: str) -> Request:
        return thread_request(f"/{thread}", None)

    def first_page(self, thread: str) -> Request:
        return thread_request(f"/{thread}", PAGE)

    def counts(self, threads: Sequence[str]) -> Request:
        return count_request([f"/{thread}" for thread in threads])

    async def settle(self) -> None:
        """Isso writes synchronously: a comment is visible once its 201 is sent."""

    def process_ids(self) -> dict[str, int]:
        """Isso's server (SQLite runs inside it)."""
        return {"isso": self.server.pid} if self.server.pid is not None else {}

    async def memory_bytes(self) -> int:
        """The SQLite database's size on disk (with its WAL, if any)."""
        paths = [self.server.db_path, self.server.db_path.with_name("comments.db-wal")]
        return sum(path.stat().st_size for path in paths if path.exists())


THREAD_ONE = "/smoke/one"
THREAD_TWO = "/smoke/two"


class _Smoke:
    """The smoke check's requests on one keep-alive connection, printed as they go."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        self.host = parts.netloc
        self.statuses: list[int] = []

    async def send(self, label: str | None, request: Request) -> Response:
        """Send one request; print its status and time unless `label` is None."""
        started = time.perf_counter()
        response = await self.connection.exchange(request.encode(self.host))
        self.statuses.append(response.status)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if label is not None:
            print(f"{label:<26} {response.status}  {elapsed_ms:7.2f} ms")
        return response

    async def run(self) -> list[int]:
        started = time.perf_counter()
        ids = [
            (await self.send(None, new_comment_request(THREAD_ONE, f"comment {n}"))).json()["id"]
            for n in range(20)
        ]
        each_ms = (time.perf_counter() - started) / len(ids) * 1000
        print(f"{'post x20, sequential':<26} {self.statuses[-1]}  {each_ms:7.2f} ms each")
        await self.send("post on a second thread", new_comment_request(THREAD_TWO, "hello there"))
        await self._likes(ids[0])
        await self.send("fetch whole thread", thread_request(THREAD_ONE, None))
        page = (await self.send("fetch limit=5", thread_request(THREAD_ONE, 5))).json()
        print(f"limit=5 page: {len(page['replies'])} shown, {page['hidden_replies']} hidden")
        counted = await self.send("count 2 threads", count_request([THREAD_ONE, THREAD_TWO]))
        print("count body:", counted.json())
        self.connection.close()
        return self.statuses

    async def _likes(self, comment_id: int) -> None:
        """A like as another user, the same /24 again, and one from the author's address."""
        tries = {"like": "10.0.1.7", "like, same /24": "10.0.1.8", "like, author's IP": None}
        for label, address in tries.items():
            response = await self.send(None, like_request(comment_id, address))
            print(f"{label:<26} {response.status}  likes now {response.json().get('likes')}")


def _log_summary(log: str) -> str:
    """What the log says about start-up and title fetching."""
    lines = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    return "; ".join(lines) or "no warnings"


def main() -> int:
    """Install, start, exercise and stop Isso; 0 when every status was 2xx."""
    started = time.perf_counter()
    isso = ensure_isso_venv(DEFAULT_ROOT)
    print(f"Isso {isso_version(isso)} at {isso} ({time.perf_counter() - started:.1f} s)")
    with IssoServer(isso) as server:
        print(f"listening at {server.base_url}")
        statuses = asyncio.run(_Smoke(server.base_url).run())
        log = server.log_path.read_text(errors="replace")
    ok = all(200 <= status < 300 for status in statuses)
    print("all 2xx" if ok else f"failures: {statuses}")
    print("Isso log:", _log_summary(log))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
