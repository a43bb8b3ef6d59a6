"""The embedded server's Unix socket: made at start, removed when the server stops or is
killed (a crash would otherwise leave it behind in the temporary directory), made again by a
restart on the same port, with the data kept."""

from pathlib import Path

import redis

from services.embedded import EmbeddedRedis


def test_the_socket_comes_and_goes_with_the_server(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis", fsync="always").start()
    try:
        assert server.socket_path.is_socket()
        with redis.Redis(unix_socket_path=str(server.socket_path)) as client:
            client.set("kept", "yes")
        server.kill()
        assert not server.socket_path.exists()
        again = EmbeddedRedis(tmp_path / "redis", port=server.port, fsync="always").start()
        with redis.Redis.from_url(again.socket_url, decode_responses=True) as client:
            assert client.get("kept") == "yes"
        again.stop()
        assert not again.socket_path.exists()
    finally:
        server.stop()
