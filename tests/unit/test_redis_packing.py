"""Commands packed by hiredis are byte for byte what redis-py's own packing sends."""

import pytest
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from storage.connection import HiredisConnection, connection_class

COMMANDS = [
    ("SET", "key", "value"),
    ("CONFIG GET", "port"),
    (b"CLIENT LIST",),
    ("HSET", "cs:{3}:h", "field", "ünïcödé ✓", b"\x00\xffbytes", memoryview(b"view")),
    ("ZADD", "z", 1.5, "a", 0.1, "b", 1e20, "c", -0.0, "d", 2**70, "e", -7, "f"),
    ("EVALSHA", "a" * 40, 2, "k1", "k2", *[str(n) for n in range(5000)], bytearray(b"tail")),
    ("XADD", "s", "*", "event", "x" * 100_000),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: str(c[0]))
def test_hiredis_packing_sends_the_same_bytes_as_redis_py(command: tuple) -> None:  # type: ignore[type-arg]
    ours = b"".join(HiredisConnection().pack_command(*command))
    theirs = b"".join(bytes(part) for part in Connection().pack_command(*command))
    assert ours == theirs


@pytest.mark.parametrize("value", [True, None, object()])
def test_values_redis_py_refuses_are_refused(value: object) -> None:
    with pytest.raises(DataError):
        HiredisConnection().pack_command("SET", "key", value)  # type: ignore[arg-type]


def test_the_url_scheme_still_chooses_tcp_tls_or_a_socket() -> None:
    assert connection_class("redis://127.0.0.1:6379/0").__name__ == "HiredisConnection"
    assert connection_class("rediss://example.org:6380/0").__name__ == "HiredisSSLConnection"
    assert connection_class("unix:///run/redis.sock").__name__ == "HiredisUnixConnection"


def test_text_read_back_with_surrogate_escapes_is_sent_as_its_bytes() -> None:
    sealed = bytes(range(256))
    command = ("XADD", "s", "*", "p", sealed.decode("utf-8", "surrogateescape"), "e", "ünï")
    ours = b"".join(HiredisConnection().pack_command(*command))
    theirs = Connection(encoding_errors="surrogateescape").pack_command(*command)
    assert ours == b"".join(bytes(part) for part in theirs)
    assert sealed in ours
