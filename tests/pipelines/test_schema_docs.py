"""docs/schema.md is the rendering of the checked-in schema, with every field and a valid example."""

import json
import re
from pathlib import Path

import jsonschema

from crawlers import schema_docs
from crawlers.schema import load_schema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def test_checked_in_schema_docs_are_generated():
    assert DOCS.read_text(encoding="utf-8") == schema_docs.render(load_schema()), "run: make schema-docs"


def test_every_field_of_every_object_is_documented_with_its_type():
    text = schema_docs.render(load_schema())
    schema = load_schema()
    for definition in [schema, *schema["$defs"].values()]:
        for name, prop in definition["properties"].items():
            assert f"| `{name}` | {schema_docs.type_text(prop)} |" in text
    assert "| `authors` | array of [Person](#person) |" in text
    assert "only ever gains fields" in text and "schemaVersion" in text


def test_the_example_item_validates():
    text = schema_docs.render(load_schema())
    (example,) = re.findall(r"```json\n(.*?)\n```", text, re.S)
    jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker()).validate(
        json.loads(example)
    )
