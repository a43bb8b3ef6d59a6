"""Personal data of an author, and its sealed (encrypted) form as stored in the log.

Each author has a key of their own, kept outside the log; deleting that key erases the
person's data from every event at once (crypto-shredding) while the log stays immutable.
"""

import base64
import json
import os
import re
import unicodedata
from functools import cache
from typing import Annotated

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from events.identifiers import ActorId

BODY_MAX_CHARS = 10_000
NAME_MAX_CHARS = 80
WEBSITE_MAX_CHARS = 200
EMAIL_MAX_CHARS = 254


# Unicode category Cc is exactly these two ranges.
CONTROL_CHARACTERS = [*range(0x00, 0x20), *range(0x7F, 0xA0)]


@cache
def _control_table(keep: str) -> dict[int, None]:
    return {code: None for code in CONTROL_CHARACTERS if chr(code) not in keep}


def _without_controls(value: str, keep: str = "") -> str:
    """Drop control characters (Unicode category Cc) except those in `keep`."""
    return value.translate(_control_table(keep))


def _normalise(value: str, keep: str = "") -> str:
    return _without_controls(unicodedata.normalize("NFC", value), keep).strip()


def _body(value: str) -> str:
    value = _normalise(value.replace("\r\n", "\n").replace("\r", "\n"), keep="\n\t")
    if not value:
        raise ValueError("must not be empty")
    if len(value) > BODY_MAX_CHARS:
        raise ValueError(f"must be at most {BODY_MAX_CHARS} characters")
    return value


def _name(value: str) -> str:
    value = _normalise(value)
    if not value:
        raise ValueError("must not be empty")
    if len(value) > NAME_MAX_CHARS:
        raise ValueError(f"must be at most {NAME_MAX_CHARS} characters")
    return value


def http_url(max_chars: int) -> AfterValidator:
    """A validator for an http(s) URL of at most `max_chars` characters."""

    def check(value: str) -> str:
        value = value.strip()
        if len(value) > max_chars:
            raise ValueError(f"must be at most {max_chars} characters")
        if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value, flags=re.IGNORECASE):
            raise ValueError("must be an http:// or https:// URL")
        return value

    return AfterValidator(check)


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > EMAIL_MAX_CHARS or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError("must be an email address")
    return value


Body = Annotated[str, AfterValidator(_body)]
AuthorName = Annotated[str, AfterValidator(_name)]
Website = Annotated[str, http_url(WEBSITE_MAX_CHARS)]
Email = Annotated[str, AfterValidator(_email)]


class AuthorDetails(BaseModel):
    """What a commenter tells about themselves in the "Leave a Reply" form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: AuthorName | None = None
    email: Email | None = None
    website: Website | None = None


class PersonalData(BaseModel):
    """The plaintext that gets sealed: everything in an event that identifies or quotes a person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    body: str | None = None
    name: str | None = None
    email: str | None = None
    website: str | None = None


class Sealed(BaseModel):
    """AES-GCM ciphertext of a PersonalData, under the key of author `key_id`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: ActorId
    nonce: str = Field(description="base64 of the 12-byte nonce")
    ciphertext: str = Field(description="base64 of the AES-GCM ciphertext and tag")


def new_author_key() -> bytes:
    """A fresh 256-bit AES key for one author."""
    return AESGCM.generate_key(bit_length=256)


def sealing_context(site: str, thread: str, comment_id: str) -> str:
    """Associated data binding a sealed field to its comment, so it cannot be moved elsewhere."""
    return f"{site}/{thread}/{comment_id}"


def seal(data: PersonalData, key: bytes, key_id: str, context: str) -> Sealed:
    """Encrypt `data`; `context` (site/thread/comment) is bound as associated data."""
    nonce = os.urandom(12)
    plaintext = data.model_dump_json(exclude_none=True).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, context.encode())
    return Sealed(
        key_id=key_id,
        nonce=base64.b64encode(nonce).decode(),
        ciphertext=base64.b64encode(ciphertext).decode(),
    )


def unseal(sealed: Sealed, key: bytes, context: str) -> PersonalData:
    """Decrypt a Sealed; raises `cryptography.exceptions.InvalidTag` if it was altered."""
    plaintext = AESGCM(key).decrypt(
        base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), context.encode()
    )
    return PersonalData.model_validate(json.loads(plaintext))
