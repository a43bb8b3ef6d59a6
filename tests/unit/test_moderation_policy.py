"""The screening of a new comment, in the order of WordPress's check_comment: what refuses it
first, then every reason to hold it."""

from datetime import UTC, datetime, timedelta

import pytest

from events.moderation import (
    ModerationPolicy,
    NewComment,
    Refusal,
    disposable_address,
    is_moderator,
    screen,
)

PLAIN = NewComment(
    body="A fine post.", email="reader@example.org", approved_before=True, duplicate=False
)
STRICT = ModerationPolicy(
    mode="post",
    max_links=2,
    suspect_words=("casino", "cheap pills"),
    banned_words=("viagra",),
    disposable_email="hold",
)


def comment(**changes: object) -> NewComment:
    return NewComment(**(PLAIN.__dict__ | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("policy", "new", "outcome"),
    [
        (ModerationPolicy(), PLAIN, ()),
        (STRICT, PLAIN, ()),
        # refused, before anything holds it
        (STRICT, comment(body="Buy VIAGRA now"), "banned_words"),
        (STRICT, comment(body="Viagra! casino www.a.example www.b.example"), "banned_words"),
        (STRICT, comment(duplicate=True), "duplicate"),
        (ModerationPolicy(duplicate="off"), comment(duplicate=True), ()),
        (
            ModerationPolicy(disposable_email="refuse"),
            comment(email="x@mailinator.com"),
            "disposable_email",
        ),
        # held, with every reason that applies
        (ModerationPolicy(mode="pre"), PLAIN, ("pre",)),
        (ModerationPolicy(mode="first_time"), comment(approved_before=False), ("first_time",)),
        (ModerationPolicy(mode="first_time"), PLAIN, ()),
        (STRICT, comment(email="x@mailinator.com"), ("disposable_email",)),
        (ModerationPolicy(disposable_email="off"), comment(email="x@mailinator.com"), ()),
        (STRICT, comment(body="see https://a.example and http://b.example"), ("link_count",)),
        (STRICT, comment(body="one link: https://a.example"), ()),
        (STRICT, comment(body="www.a.example, www.b.example"), ("link_count",)),
        (ModerationPolicy(max_links=0), comment(body="https://a https://b https://c"), ()),
        (STRICT, comment(body="Best CASINO in town"), ("suspect_word",)),
        (STRICT, comment(body="get cheap  pills"), ()),  # a phrase is matched as written
        (STRICT, comment(body="get Cheap Pills here"), ("suspect_word",)),
        (STRICT, comment(body="casinos"), ()),  # whole words only
        (STRICT, comment(body="occasional"), ()),
        (
            ModerationPolicy(mode="pre", suspect_words=("casino",)),
            comment(body="casino https://a https://b", email="x@mailinator.com"),
            ("pre", "disposable_email", "link_count", "suspect_word"),
        ),
    ],
)
def test_screening(policy: ModerationPolicy, new: NewComment, outcome: object) -> None:
    screened = screen(policy, new)
    if isinstance(outcome, str):
        assert isinstance(screened, Refusal) and screened.code == outcome
        assert screened.field in {"body", "email"}
    else:
        assert screened == outcome


def test_disposable_addresses_come_from_the_maintained_list() -> None:
    assert disposable_address("someone@mailinator.com")
    assert disposable_address("someone@MAILINATOR.COM")
    assert disposable_address("someone@sub.mailinator.com")
    assert not disposable_address("someone@example.org")
    assert not disposable_address("someone@gmail.com")


def test_a_thread_closes_so_many_days_after_its_first_comment() -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    assert ModerationPolicy().closes_at(first) is None
    assert ModerationPolicy(auto_close_days=14).closes_at(first) == first + timedelta(days=14)
    assert ModerationPolicy(auto_close_days=14).closes_at(None) is None


def test_moderators_are_listed_identities_or_carry_the_role() -> None:
    policy = ModerationPolicy(moderators=("sso:editor-1",))
    assert is_moderator(policy, "blog", "sso:editor-1", has_moderator_role=False)
    assert is_moderator(policy, "blog", "sso:blog:editor-1", has_moderator_role=False)
    assert not is_moderator(policy, "other", "sso:blog:editor-1", has_moderator_role=False)
    assert not is_moderator(policy, "blog", "sso:blog:editor-2", has_moderator_role=False)
    assert is_moderator(policy, "blog", "sso:other", has_moderator_role=True)
    assert not is_moderator(policy, "blog", "sso:other", has_moderator_role=False)
