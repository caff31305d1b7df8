"""JSON Schema (draft 2020-12) of the article item, generated from the dataclasses in ``crawlers.items``.

The dataclasses are the single source; ``article.schema.json`` is their checked-in rendering, which consumers
can use without Python. Regenerate with ``python -m crawlers.schema`` after changing an item class.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

from crawlers import items

SCHEMA_PATH = Path(__file__).with_name("article.schema.json")
SCHEMA_ID = "https://github.com/newsvault/newsvault/schema/article.schema.json"
_SCALARS: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
# Fields whose strings carry a format the validator can check.
_DATE_TIME = {"datePublished", "dateModified", "dateDownloaded", "capturedAt"}


def _type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        (only,) = inner
        schema = _type_schema(only, defs)
        if "$ref" in schema:
            return {"anyOf": [schema, {"type": "null"}]}
        return {**schema, "type": [schema["type"], "null"]}
    if origin is list:
        (item,) = typing.get_args(tp)
        return {"type": "array", "items": _type_schema(item, defs)}
    if dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # reserve the name before recursing
            defs[name] = _object_schema(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    return {"type": _SCALARS[tp]}


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        prop = _type_schema(hints[f.name], defs)
        if f.name in _DATE_TIME:
            prop["format"] = "date-time"
        prop["description"] = f.metadata["description"]
        properties[f.name] = prop
    return {
        "type": "object",
        "description": (cls.__doc__ or "").strip(),
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


@cache
def build_schema() -> dict[str, Any]:
    """The schema of :class:`crawlers.items.Article`, with every nested class under ``$defs``."""
    defs: dict[str, Any] = {}
    root = _object_schema(items.Article, defs)
    root["properties"]["schemaVersion"]["const"] = items.SCHEMA_VERSION
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "newsvault Article",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def render(schema: dict[str, Any]) -> str:
    """The schema as the checked-in file holds it."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The checked-in schema file."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def main() -> None:
    """Rewrite ``article.schema.json`` from the dataclasses."""
    SCHEMA_PATH.write_text(render(build_schema()), encoding="utf-8")
    sys.stdout.write(f"wrote {SCHEMA_PATH}\n")


if __name__ == "__main__":
    main()
