"""Commands' limits, upcasting and sealing (the stored envelope: test_log_entry.py)."""

import json
import unicodedata

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import ValidationError

from events.actors import Actor
from events.commands import PostComment, parse_command
from events.personal import PersonalData, new_author_key, seal, unseal
from events.thread_events import CommentPosted
from events.upcasters import UnknownSchemaVersion, upcast

ACTOR = Actor(id="anon:a")


def field_of(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.errors()[0]["loc"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"body": "   "}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"author": {"name": ""}}, "author.name"),
        ({"author": {"name": "n" * 81}}, "author.name"),
        ({"author": {"website": "javascript:alert(1)"}}, "author.website"),
        ({"author": {"website": "https://e.example/" + "p" * 200}}, "author.website"),
        ({"author": {"email": "not-an-email"}}, "author.email"),
        ({"url": "https://blog.example/" + "p" * 2000}, "url"),
        ({"title": "t" * 301}, "title"),
        ({"thread": "has space"}, "thread"),
        ({"thread": "x" * 129}, "thread"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_limits_name_the_field(changes: dict, field: str) -> None:
    fields = {"thread": "t", "actor": ACTOR, "body": "ok"} | changes
    with pytest.raises(ValidationError) as raised:
        PostComment(**fields)
    assert field_of(raised.value) == field


def test_body_is_trimmed_and_nfc_normalised_and_10000_chars_fit() -> None:
    decomposed = unicodedata.normalize("NFD", "  café  ")
    assert PostComment(thread="t", actor=ACTOR, body=decomposed).body == "café"
    assert len(PostComment(thread="t", actor=ACTOR, body="y" * 10_000).body) == 10_000


def test_a_page_url_may_be_longer_than_a_website() -> None:
    long_url = "https://blog.example/" + "p" * 500
    assert PostComment(thread="t", actor=ACTOR, body="b", url=long_url).url == long_url


def test_thread_ids_allow_the_documented_alphabet() -> None:
    assert PostComment(thread="A-z_0.9~:x", actor=ACTOR, body="b").thread == "A-z_0.9~:x"


def test_commands_parse_from_plain_json() -> None:
    raw = json.dumps(
        {
            "type": "LikeComment",
            "command_id": "c-1",
            "thread": "t",
            "actor": {"id": "svc:x"},
            "comment_id": "abc",
        }
    )
    command = parse_command(raw)
    assert command.type == "LikeComment" and command.site == "default"


def test_comment_posted_v1_is_upcast_to_v2() -> None:
    sealed = seal(PersonalData(body="b"), new_author_key(), "anon:a", "ctx").model_dump()
    v1 = {"comment_id": "c1", "in_reply_to": "c0", "personal": sealed}
    upgraded = upcast("CommentPosted", 1, v1)
    assert upgraded["parent_id"] == "c0" and "in_reply_to" not in upgraded
    assert upgraded["markup"] == "markdown"


def test_unknown_versions_are_refused() -> None:
    with pytest.raises(UnknownSchemaVersion):
        upcast("CommentPosted", CommentPosted.schema_version + 1, {})
    with pytest.raises(UnknownSchemaVersion):
        upcast("NoSuchEvent", 1, {})


def test_sealed_data_needs_the_authors_key_and_its_context() -> None:
    key = new_author_key()
    data = PersonalData(body="secret body", name="Ann", email="ann@example.org")
    sealed = seal(data, key, "anon:a", "default/t/c1")
    assert "secret" not in sealed.model_dump_json() and "Ann" not in sealed.model_dump_json()
    assert unseal(sealed, key, "default/t/c1") == data
    with pytest.raises(InvalidTag):
        unseal(sealed, new_author_key(), "default/t/c1")
    with pytest.raises(InvalidTag):
        unseal(sealed, key, "default/t/other")
