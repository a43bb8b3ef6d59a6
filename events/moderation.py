"""Moderation policy of a site and the screening of a new comment against it. Pure, no I/O.

The order follows WordPress's `check_comment` and its disallowed-keys check: what refuses a
comment outright (banned words, a duplicate, a disposable address when so set) comes first;
then what holds it for a moderator, every reason that applies, kept on the comment's event.
"""

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Literal

from disposable_email_domains import blocklist
from pydantic import BaseModel, ConfigDict, Field

ModerationMode = Literal["post", "pre", "first_time"]
EmailRule = Literal["off", "hold", "refuse"]
DuplicateRule = Literal["off", "refuse"]
HoldReason = Literal[
    "pre", "first_time", "disposable_email", "link_count", "suspect_word", "spam_score", "reported"
]
Word = Annotated[str, Field(min_length=1, max_length=100)]

LINK = re.compile(r"https?://|(?<![/\w.])www\.", re.IGNORECASE)


class ModerationPolicy(BaseModel):
    """`[sites.NAME.moderation]` of the sites file (the default site's from the settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: ModerationMode = "post"  # pre: hold everything; first_time: until one is approved
    max_links: int = Field(default=2, ge=0)  # hold at this many links or more (0: off)
    suspect_words: tuple[Word, ...] = ()  # hold
    banned_words: tuple[Word, ...] = ()  # refuse (422 banned_words)
    auto_close_days: int = Field(default=0, ge=0)  # 0: never
    disposable_email: EmailRule = "hold"
    duplicate: DuplicateRule = "refuse"  # the same body by the same identity in the thread
    moderators: tuple[str, ...] = ()  # actor ids; "sso:NAME": the site's SSO user NAME
    # Hold a published comment once this many readers reported it (0: never), until a verdict.
    hold_after_reports: int = Field(default=3, ge=0)
    # Hold at this spam score or above, once the site's model is trained (`spam train`).
    spam_threshold: float = Field(default=0.9, gt=0, le=1)

    def closes_at(self, first_comment_at: datetime | None) -> datetime | None:
        """When a thread whose first comment came at `first_comment_at` stops taking posts."""
        if not self.auto_close_days or first_comment_at is None:
            return None
        return first_comment_at + timedelta(days=self.auto_close_days)


@dataclass(frozen=True)
class Refusal:
    """A comment the policy will not take: a rejection code, a message and the field."""

    code: str
    message: str
    field: str


@dataclass(frozen=True)
class NewComment:
    """What the policy looks at in a new comment and its author."""

    body: str
    email: str | None
    approved_before: bool  # the author has a comment approved on this site already
    duplicate: bool  # the same body by the same identity is in the thread already
    spam_score: float | None = None  # the site's trained model's (None: no model yet)


def screen(
    policy: ModerationPolicy,
    comment: NewComment,
    is_disposable: Callable[[str], bool] | None = None,
) -> Refusal | tuple[HoldReason, ...]:
    """The refusal, or the reasons to hold the comment (empty: publish it)."""
    disposable = is_disposable or disposable_address
    if policy.banned_words and _mentions(comment.body, policy.banned_words):
        return Refusal(
            "banned_words", "the comment contains words this site does not accept", "body"
        )
    if policy.duplicate == "refuse" and comment.duplicate:
        return Refusal("duplicate", "you have already posted this comment here", "body")
    email_is_disposable = (
        policy.disposable_email != "off" and comment.email is not None and disposable(comment.email)
    )
    if email_is_disposable and policy.disposable_email == "refuse":
        return Refusal("disposable_email", "use an address that is not a throwaway one", "email")
    reasons: list[HoldReason] = []
    if policy.mode == "pre":
        reasons.append("pre")
    if policy.mode == "first_time" and not comment.approved_before:
        reasons.append("first_time")
    if email_is_disposable:
        reasons.append("disposable_email")
    if policy.max_links and len(LINK.findall(comment.body)) >= policy.max_links:
        reasons.append("link_count")
    if policy.suspect_words and _mentions(comment.body, policy.suspect_words):
        reasons.append("suspect_word")
    if comment.spam_score is not None and comment.spam_score >= policy.spam_threshold:
        reasons.append("spam_score")
    return tuple(reasons)


def disposable_address(email: str) -> bool:
    """Whether `email` is at a domain (or a subdomain of one) of the maintained list of
    disposable-address providers (the `disposable-email-domains` package)."""
    domain = email.rpartition("@")[2].strip().rstrip(".").casefold()
    parts = domain.split(".")
    return any(".".join(parts[i:]) in blocklist for i in range(len(parts) - 1))


def body_fingerprint(key: bytes, actor_id: str, body: str) -> str:
    """A keyed hash of an author and a body, by which the same comment posted again in a thread
    is known (blanks around it aside) without keeping the body in clear."""
    digest = hmac.new(key, f"{actor_id}\n{body.strip()}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


BanKind = Literal["identity", "email", "address"]


def fingerprint_key(secret: str) -> bytes:
    """The key of comment fingerprints, derived from the server secret (never stored)."""
    return hashlib.sha256(b"commentstream-fingerprint:" + secret.encode()).digest()


def ban_key(secret: str) -> bytes:
    """The key of banned subjects' hashes (identity, email, address), from the server secret;
    the gateway hashes client addresses with it, the processor identities and emails."""
    return hashlib.sha256(b"commentstream-ban:" + secret.encode()).digest()


def ban_subject(key: bytes, kind: BanKind, value: str) -> str:
    """How a banned identity, email or client address is kept and looked up: `kind:digest`,
    a keyed hash (never the value in clear). Emails are compared case-folded."""
    normalised = value.strip().casefold() if kind == "email" else value.strip()
    digest = hmac.new(key, f"{kind}\n{normalised}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{kind}:{digest}"


def ban_id_of(command_id: str) -> str:
    """A ban's id, from its command's (so that a redelivered command names the same ban)."""
    return hashlib.sha256(command_id.encode()).hexdigest()[:16]


def address_key(key: bytes, address: str) -> str:
    """The digest part of a client address's ban subject (what a post carries)."""
    return ban_subject(key, "address", address).partition(":")[2]


def is_moderator(
    policy: ModerationPolicy, site: str, actor_id: str, has_moderator_role: bool
) -> bool:
    """A site's moderators: its listed identities, and any caller whose token gives the role.
    A listed `sso:NAME` is the site's single sign-on user NAME (in the log `sso:SITE:NAME`)."""
    if has_moderator_role or actor_id in policy.moderators:
        return True
    prefix = f"sso:{site}:"
    return actor_id.startswith(prefix) and f"sso:{actor_id[len(prefix) :]}" in policy.moderators


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    return _words_pattern(words).search(text.casefold()) is not None


@lru_cache(maxsize=256)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words or phrases, case-folded: "ass" matches "ass" and "Ass!", not "class"."""
    alternatives = "|".join(
        re.escape(word.casefold()) for word in sorted(words, key=len, reverse=True)
    )
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
