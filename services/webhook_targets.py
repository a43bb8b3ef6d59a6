"""Where a webhook may go: http(s) to a public address. Loopback, private, link-local and other
special ranges are refused (a site's owner must not make the server call its own network),
unless COMMENTSTREAM_WEBHOOKS_ALLOW_PRIVATE is set (tests, a private deployment)."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    pass


async def check_target(url: str, allow_private: bool) -> None:
    """Raise TargetRefused naming why `url` may not be called; resolves its host now."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("the url must be http:// or https:// with a host")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM,
        )
    except socket.gaierror as error:
        raise TargetRefused(f"the host does not resolve: {error}") from error
    for *_, address in infos:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global or ip.is_multicast:
            raise TargetRefused(f"{parts.hostname} resolves to {ip}, not a public address")
