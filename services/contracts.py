"""The published contracts of the streams, made from the code: the AsyncAPI 3 document and a
JSON Schema for every command, every event at each of its schema versions, and the outcome.
They are committed under docs/ (`commentstream contracts` writes them, `--check` says which are
stale; a test fails when any is)."""

import json
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from events.commands import Command
from events.outcomes import Outcome
from events.schema_history import PAST_VERSIONS
from events.thread_events import EVENT_CLASSES
from services.asyncapi import asyncapi_document
from services.settings import Settings

ASYNCAPI_FILE = "asyncapi.json"
SCHEMAS_DIR = "schemas"
HAND_WRITTEN = {"log-entry-v2.schema.json"}  # the stored entry as a whole (events/log_entry.py)


def command_models() -> list[type[BaseModel]]:
    union, *_ = get_args(Command)
    return list(get_args(union))


def json_schemas() -> dict[str, dict[str, Any]]:
    """Each schema by its path under docs/schemas/."""
    schemas: dict[str, dict[str, Any]] = {}
    for model in command_models():
        schemas[f"commands/{model.__name__}.schema.json"] = model.model_json_schema()
    for name, event in sorted(EVENT_CLASSES.items()):
        schemas[f"events/{name}.v{event.schema_version}.schema.json"] = event.model_json_schema()
    for (name, version), past in PAST_VERSIONS.items():
        schemas[f"events/{name}.v{version}.schema.json"] = past.model_json_schema()
    schemas["outcome.schema.json"] = Outcome.model_json_schema()
    return schemas


def contract_files() -> dict[str, str]:
    """Every generated file by its path under docs/, as it should read."""
    files = {ASYNCAPI_FILE: _dumps(asyncapi_document(Settings.model_fields["partitions"].default))}
    for path, schema in json_schemas().items():
        files[f"{SCHEMAS_DIR}/{path}"] = _dumps(schema)
    return files


def _dumps(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale_files(docs: Path) -> list[str]:
    """The generated files that differ from what is under `docs`, and any there no longer made."""
    wanted = contract_files()
    stale = [
        path
        for path, text in wanted.items()
        if not (docs / path).exists() or (docs / path).read_text() != text
    ]
    present = {
        str(path.relative_to(docs))
        for path in (docs / SCHEMAS_DIR).rglob("*.json")
        if path.name not in HAND_WRITTEN
    }
    return sorted(stale + [path for path in present if path not in wanted])


def write_contracts(docs: Path) -> list[str]:
    """Write every generated file under `docs`, remove the ones no longer made; which changed."""
    changed = stale_files(docs)
    wanted = contract_files()
    for path in changed:
        target = docs / path
        if path in wanted:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(wanted[path])
        else:
            target.unlink()
    return changed
