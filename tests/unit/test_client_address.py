"""X-Forwarded-For is believed only from configured proxies."""

from starlette.requests import Request

from services.gateway.abuse import client_address


def request_from(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_forwarded_addresses_are_ignored_from_anyone_else() -> None:
    assert client_address(request_from("198.51.100.9", "203.0.113.5"), []) == "198.51.100.9"
    assert (
        client_address(request_from("198.51.100.9", "203.0.113.5"), ["10.0.0.0/8"])
        == "198.51.100.9"
    )


def test_the_first_untrusted_hop_from_the_right_behind_trusted_proxies() -> None:
    request = request_from("10.0.0.2", "1.2.3.4, 203.0.113.5, 10.0.0.7")
    assert client_address(request, ["10.0.0.0/8"]) == "203.0.113.5"
    assert client_address(request_from("10.0.0.2", None), ["10.0.0.0/8"]) == "10.0.0.2"
    assert (
        client_address(request_from("10.0.0.2", "garbage, 10.0.0.3"), ["10.0.0.0/8"]) == "garbage"
    )
