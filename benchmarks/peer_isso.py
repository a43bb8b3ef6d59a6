"""Isso (https://pypi.org/project/isso/) as a peer to benchmark side by side with commentstream.

    python -m benchmarks.peer_isso        (smoke check: install, start, a few requests, stop)

Isso is installed at benchmark time into a git-ignored venv (`.bench-peer/isso-venv`); none of
its code is in this repository. The server runs with `isso -c CONF run`, which is werkzeug's
development server with a thread per request (gevent would be used if it were installed; it is
not). Every SQL statement opens its own SQLite connection and thread creation and inserts are
serialised by one lock, so writes do not scale with concurrency.

Remote addresses: werkzeug's ProxyFix in Isso trusts the last X-Forwarded-For hop, and Isso keeps
only the /24 of an IPv4 address. The helpers can send `client_ip` to act as distinct users.
"""

import asyncio
import socket
import subprocess
import tempfile
import time
import venv
from collections.abc import Awaitable
from pathlib import Path
from types import TracebackType

import httpx

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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    def log_path(self) -> Path:
        """Isso's stdout and stderr."""
        return self.workdir / "isso.log"

    def start(self) -> None:
        """Write the config, start Isso and wait until it answers HTTP."""
        self._tmp = tempfile.TemporaryDirectory(prefix="isso-bench-")
        conf = self.workdir / "isso.cfg"
        conf.write_text(isso_config(self.workdir / "comments.db", self.port))
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


def _ip_headers(client_ip: str | None) -> dict[str, str]:
    """X-Forwarded-For for `client_ip` (Isso keeps its /24), or no header."""
    return {"X-Forwarded-For": client_ip} if client_ip else {}


def _comment_json(thread_uri: str, body: str, author: str) -> dict[str, str]:
    """A new comment's JSON; `title` spares Isso fetching the page for a new thread."""
    return {"text": body, "author": author, "title": f"Thread {thread_uri}"}


async def post_and_get_id(
    client: httpx.AsyncClient,
    thread_uri: str,
    body: str,
    author: str = "bench",
    client_ip: str | None = None,
) -> tuple[int, int | None]:
    """POST /new?uri=...; (status, new comment id). 201 when published. Body: 3+ chars."""
    response = await client.post(
        "/new",
        params={"uri": thread_uri},
        json=_comment_json(thread_uri, body, author),
        headers=_ip_headers(client_ip),
    )
    comment_id = response.json().get("id") if response.status_code in (201, 202) else None
    return response.status_code, comment_id


async def post_comment(
    client: httpx.AsyncClient,
    thread_uri: str,
    body: str,
    client_ip: str | None = None,
) -> int:
    """A new top-level comment on `thread_uri`; the HTTP status."""
    status, _ = await post_and_get_id(client, thread_uri, body, client_ip=client_ip)
    return status


async def fill_thread(
    client: httpx.AsyncClient, thread_uri: str, count: int, client_ip: str | None = None
) -> list[int]:
    """Post `count` comments one after another; their ids."""
    ids = []
    for n in range(count):
        status, comment_id = await post_and_get_id(
            client, thread_uri, f"comment number {n}", client_ip=client_ip
        )
        if comment_id is None:
            raise RuntimeError(f"Isso refused comment {n} on {thread_uri}: {status}")
        ids.append(comment_id)
    return ids


async def like(client: httpx.AsyncClient, comment_id: int, client_ip: str | None = None) -> int:
    """POST /id/<id>/like; the HTTP status.

    Isso answers 200 even when it ignores the vote: it keeps a Bloom filter of voters' /24
    addresses per comment, seeded with the author's, so a repeat like from one address, or a like
    on one's own comment, leaves the count unchanged (the body then has a "message"). After 142
    likes + dislikes a comment takes no more votes. Pass distinct `client_ip`s to count likes.
    """
    response = await client.post(f"/id/{comment_id}/like", headers=_ip_headers(client_ip))
    return response.status_code


async def like_counts(
    client: httpx.AsyncClient, comment_id: int, client_ip: str | None = None
) -> tuple[int, int]:
    """Like a comment; (status, like count after the request)."""
    response = await client.post(f"/id/{comment_id}/like", headers=_ip_headers(client_ip))
    likes = response.json().get("likes", -1) if response.status_code == 200 else -1
    return response.status_code, int(likes)


async def fetch_thread(client: httpx.AsyncClient, thread_uri: str, limit: int | None) -> int:
    """GET /?uri=... (all comments, oldest first), or its first `limit` top-level ones.

    With a limit, replies are cut to `limit` per comment too (`nested_limit`), as Isso's own
    embed does for its first page.
    """
    params: dict[str, str | int] = {"uri": thread_uri}
    if limit is not None:
        params |= {"limit": limit, "nested_limit": limit}
    response = await client.get("/", params=params)
    return response.status_code


async def counts(client: httpx.AsyncClient, uris: list[str]) -> int:
    """POST /count with a JSON list of thread URIs; the HTTP status (body: list of counts)."""
    response = await client.post("/count", json=uris)
    return response.status_code


THREAD_ONE = "/smoke/one"
THREAD_TWO = "/smoke/two"


async def _timed(label: str, call: Awaitable[int]) -> int:
    """Await `call`, print its status and time; the status."""
    started = time.perf_counter()
    status = await call
    print(f"{label:<26} {status}  {(time.perf_counter() - started) * 1000:7.2f} ms")
    return status


async def _smoke_posts(client: httpx.AsyncClient) -> list[int]:
    """20 comments on one thread, one on another; the first thread's ids."""
    started = time.perf_counter()
    ids = await fill_thread(client, THREAD_ONE, 20)
    each_ms = (time.perf_counter() - started) / len(ids) * 1000
    print(f"{'post x20, sequential':<26} 201  {each_ms:7.2f} ms each")
    await _timed("post on a second thread", post_comment(client, THREAD_TWO, "hello there"))
    return ids


async def _smoke_likes(client: httpx.AsyncClient, comment_id: int) -> list[int]:
    """A like as another user, the same again, and one from the author's address."""
    tries = {"like": "10.0.1.7", "like, same /24": "10.0.1.8", "like, author's IP": None}
    results = [await like_counts(client, comment_id, ip) for ip in tries.values()]
    for label, (status, likes) in zip(tries, results, strict=True):
        print(f"{label:<26} {status}  likes now {likes}")
    await _timed("like (timed, new /24)", like(client, comment_id, "10.0.2.7"))
    return [status for status, _ in results]


async def _smoke_reads(client: httpx.AsyncClient) -> list[int]:
    """Whole and first-page thread reads and a count of both threads."""
    statuses = [
        await _timed("fetch whole thread", fetch_thread(client, THREAD_ONE, None)),
        await _timed("fetch limit=5", fetch_thread(client, THREAD_ONE, 5)),
        await _timed("count 2 threads", counts(client, [THREAD_ONE, THREAD_TWO])),
    ]
    page = (await client.get("/", params={"uri": THREAD_ONE, "limit": 5})).json()
    print(f"limit=5 page: {len(page['replies'])} shown, {page['hidden_replies']} hidden")
    print("count body:", (await client.post("/count", json=[THREAD_ONE, THREAD_TWO])).json())
    return statuses


async def _smoke(base_url: str) -> list[int]:
    """The smoke check's requests; their statuses."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        ids = await _smoke_posts(client)
        statuses = await _smoke_likes(client, ids[0])
        return statuses + await _smoke_reads(client)


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
        statuses = asyncio.run(_smoke(server.base_url))
        log = server.log_path.read_text(errors="replace")
    ok = all(200 <= status < 300 for status in statuses)
    print("all 2xx" if ok else f"failures: {statuses}")
    print("Isso log:", _log_summary(log))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
