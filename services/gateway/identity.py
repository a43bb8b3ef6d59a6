"""Anonymous reader identities: HMAC-signed tokens the server hands out and checks."""

import base64
import hashlib
import hmac
import json
import time
import uuid

from events.actors import Actor

ANONYMOUS_PREFIX = "anon:"


class InvalidToken(ValueError):
    pass


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"commentstream-identity:" + secret.encode()).digest()

    def new_anonymous(self) -> tuple[Actor, str]:
        """A fresh anonymous identity and its bearer token."""
        actor = Actor(id=ANONYMOUS_PREFIX + uuid.uuid4().hex, kind="anonymous")
        return actor, self.sign(actor)

    def sign(self, actor: Actor) -> str:
        payload = _b64(json.dumps({"sub": actor.id, "kind": actor.kind, "iat": int(time.time())}))
        return f"{payload}.{self._mac(payload)}"

    def verify(self, token: str) -> Actor:
        payload, _, mac = token.partition(".")
        if not payload or not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidToken("the token is not one this server signed")
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return Actor(id=claims["sub"], kind=claims["kind"])
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidToken("the token is malformed") from error

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
