"""Anonymous reader identities: HMAC-signed tokens the server hands out and checks."""

import base64
import hashlib
import hmac
import json
import re
import time
import uuid

import jwt
from pydantic import BaseModel

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


class SsoProfile(BaseModel):
    """What a host site says about its signed-in user."""

    name: str | None = None
    email: str | None = None
    url: str | None = None


SSO_LEEWAY_SECONDS = 60
MODERATOR_ROLES = ("moderator", "admin")


def verify_sso(token: str, site: str, secret: str | None) -> tuple[Actor, SsoProfile]:
    """A host site's JWT: HS256 under the site's own secret, `exp` required, `aud` the site."""
    if not secret:
        raise InvalidToken(f"site {site!r} has no single sign-on configured")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=site,
            leeway=SSO_LEEWAY_SECONDS,
            options={"require": ["exp", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(f"single sign-on token refused: {error}") from error
    subject = str(claims["sub"])
    if not re.fullmatch(r"[A-Za-z0-9._~:@-]{1,80}", subject):
        raise InvalidToken("single sign-on token refused: sub has characters not allowed")
    # The host site says who moderates its comments: "role": "moderator" (or "admin").
    moderator = claims.get("role") in MODERATOR_ROLES
    actor = Actor(id=f"sso:{site}:{subject}"[:128], kind="user", moderator=moderator)
    profile = SsoProfile(name=claims.get("name"), email=claims.get("email"), url=claims.get("url"))
    return actor, profile
