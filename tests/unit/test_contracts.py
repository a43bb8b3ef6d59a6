"""The published contracts (docs/asyncapi.json, docs/schemas/) are what the code makes now, the
AsyncAPI document passes the reference parser (@asyncapi/parser), and the schemas hold for
what the system writes."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema_rs
import pytest

from events.actors import Actor
from events.commands import LikeComment, PostComment
from events.outcomes import Outcome
from events.personal import PersonalData
from events.schema_history import CommentPostedV1
from events.thread_events import EVENT_CLASSES, CommentPosted
from events.upcasters import upcast
from services.contracts import command_models, contract_files, stale_files, write_contracts

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_the_committed_contracts_are_current() -> None:
    stale = stale_files(DOCS)
    assert stale == [], f"stale: {stale}; run `commentstream contracts` and commit docs/"


def test_a_changed_model_makes_its_schema_stale(tmp_path: Path) -> None:
    write_contracts(tmp_path)
    assert stale_files(tmp_path) == []
    schema = tmp_path / "schemas/commands/PostComment.schema.json"
    schema.write_text(schema.read_text().replace('"body"', '"text"', 1))
    (tmp_path / "schemas/events/Gone.v1.schema.json").write_text("{}")
    assert stale_files(tmp_path) == [
        "schemas/commands/PostComment.schema.json",
        "schemas/events/Gone.v1.schema.json",
    ]


def test_every_command_event_and_the_outcome_has_a_schema() -> None:
    files = contract_files()
    assert {f"schemas/commands/{m.__name__}.schema.json" for m in command_models()} <= set(files)
    for name, event in EVENT_CLASSES.items():
        assert f"schemas/events/{name}.v{event.schema_version}.schema.json" in files
    assert "schemas/outcome.schema.json" in files


def test_the_schemas_hold_for_what_is_sent_and_written() -> None:
    def check(path: str, instance: object) -> None:
        schema = json.loads((DOCS / "schemas" / path).read_text())
        jsonschema_rs.validator_for(schema).validate(instance)

    actor = Actor(id="svc:importer", kind="service")
    post = PostComment(thread="t", actor=actor, body="hello")
    check("commands/PostComment.schema.json", json.loads(post.model_dump_json()))
    like = LikeComment(thread="t", actor=actor, comment_id="c1234567890abcde")
    check("commands/LikeComment.schema.json", json.loads(like.model_dump_json()))
    outcome = Outcome(command_id="x", status="accepted", comment_id="c1", position="1-0")
    check("outcome.schema.json", json.loads(outcome.model_dump_json()))
    posted = CommentPosted(comment_id="c1", personal=PersonalData(body="hello"))
    check(
        f"events/CommentPosted.v{CommentPosted.schema_version}.schema.json",
        json.loads(posted.model_dump_json()),
    )
    with pytest.raises(ValueError):
        check("commands/PostComment.schema.json", {"type": "PostComment"})


def test_the_asyncapi_document_passes_the_reference_parser() -> None:
    node = shutil.which("node")
    parser = ROOT / "node_modules/@asyncapi/parser"
    if node is None or not parser.exists():
        if os.environ.get("CI"):
            pytest.fail("node and npm's @asyncapi/parser are needed (npm install)")
        pytest.skip("node or @asyncapi/parser (npm install) missing")
    done = subprocess.run(
        [node, str(ROOT / "tests/unit/validate_asyncapi.mjs"), str(DOCS / "asyncapi.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_event_ever_written_matches_the_schema_of_its_version() -> None:
    """The schema-history fixture holds one event of every type and version ever written."""
    fixture = ROOT / "tests/fixtures/schema_history.jsonl"
    checked = set()
    for line in fixture.read_text().splitlines():
        envelope = json.loads(line)
        path = f"events/{envelope['type']}.v{envelope['schema_version']}.schema.json"
        schema = json.loads((DOCS / "schemas" / path).read_text())
        jsonschema_rs.validator_for(schema).validate({"type": envelope["type"], **envelope["data"]})
        checked.add(path)
    assert {f"events/CommentPosted.v{v}.schema.json" for v in (1, 2, 3, 4)} <= checked


def test_a_past_version_upcast_is_a_valid_current_event() -> None:
    v1 = CommentPostedV1(comment_id="c1", in_reply_to="c0", personal=PersonalData(body="x"))
    data = upcast("CommentPosted", 1, v1.model_dump(mode="json", exclude={"type"}))
    assert CommentPosted.model_validate(data).parent_id == "c0"
