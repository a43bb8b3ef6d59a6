"""CORS by site: a browser on an origin gets the API only if that origin is one of the site's
(`?site=`). The answer names the origin itself (never `*` for the API) with `Vary: Origin`.
The scripts (`/widget.js`, `/count.js`) are public; same-origin requests always pass."""

from urllib.parse import parse_qs

from services.gateway.limits import ASGIApp, Message, Receive, Scope, Send, send_json_error
from services.sites import Sites

METHODS = b"GET, POST, PUT, PATCH, DELETE"
HEADERS = b"Authorization, Content-Type, Last-Event-ID"


class SiteCors:
    def __init__(self, app: ASGIApp, sites: Sites) -> None:
        self.app = app
        self.sites = sites

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith(".js"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = self._same_origin(scope, headers, origin) or self.sites.get(_site(scope)).allows(
            origin.decode("latin-1")
        )
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            if not allowed:
                await send_json_error(
                    send, 403, "origin_not_allowed", "this origin may not embed this site"
                )
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        *_allow(origin),
                        (b"access-control-allow-methods", METHODS),
                        (b"access-control-allow-headers", HEADERS),
                        (b"access-control-max-age", b"600"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = _allow(origin) if allowed else [(b"vary", b"Origin")]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    def _same_origin(scope: Scope, headers: dict[bytes, bytes], origin: bytes) -> bool:
        host = headers.get(b"host", b"")
        return origin == scope.get("scheme", "http").encode() + b"://" + host


def _allow(origin: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin),
        (b"vary", b"Origin"),
        (b"access-control-expose-headers", b"Retry-After"),
    ]


def _site(scope: Scope) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("site")
    return values[0] if values else "default"
