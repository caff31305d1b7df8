"""Validation of every item against the Article JSON Schema; an invalid item is dropped, naming the field."""

from __future__ import annotations

import logging
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawlers.items import to_dict
from crawlers.schema import load_schema

logger = logging.getLogger(__name__)
INVALID_STAT = "items/dropped/invalid"


def inline_refs(schema: Any, defs: dict[str, Any] | None = None) -> Any:
    """The schema with every local ``$ref`` (``#/$defs/Name``) replaced by its definition, ``$defs`` dropped.

    The Article schema is not recursive; resolving its references once here instead of at every nested object of
    every item makes validation about a third cheaper with the same result.
    """
    defs = schema["$defs"] if defs is None else defs
    if isinstance(schema, dict):
        if "$ref" in schema:
            return inline_refs(defs[schema["$ref"].removeprefix("#/$defs/")], defs)
        return {key: inline_refs(value, defs) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [inline_refs(value, defs) for value in schema]
    return schema


def error_field(error: ValidationError) -> str:
    """The dotted path of the field an error is about (a missing or unknown property counts as that field)."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        path += missing[:1]
    elif error.validator == "additionalProperties":
        extra = set(error.instance) - set(error.schema.get("properties", {}))
        path += sorted(extra)[:1]
    return ".".join(path) or "<item>"


def innermost(error: ValidationError) -> ValidationError:
    """For a nullable object (``anyOf``), the error inside the object rather than "not valid under any"."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def item_errors(validator: Draft202012Validator, item: dict[str, Any]) -> list[tuple[str, str]]:
    """Every ``(field, reason)`` that makes ``item`` invalid, sorted by field."""
    return sorted({(error_field(e), e.message) for e in map(innermost, validator.iter_errors(item))})


class ValidatePipeline:
    """Drops items that do not validate against ``crawlers/article.schema.json``.

    Two validators of the same schema: jsonschema-rs (Rust, about 80x faster: some microseconds per item) decides
    whether an item is valid; only an item it rejects goes through ``jsonschema``, whose errors name the field.
    Stats: ``items/dropped/invalid`` per dropped item and ``items/dropped/invalid/<field>`` per failing field.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        schema = inline_refs(load_schema())
        self.fast = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        # The schema's only format is date-time (rfc3339-validator in jsonschema).
        self.validator = Draft202012Validator(schema, format_checker=FormatChecker(formats=["date-time"]))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        """Build the pipeline with the crawl's stats."""
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Return the item unchanged if it is valid; otherwise count it and raise ``DropItem``."""
        exported = to_dict(item)
        if self._valid(exported):
            return item
        errors = item_errors(self.validator, exported)
        if not errors:  # the two libraries disagree (an edge of a format): the item is kept
            return item
        self.stats.inc_value(INVALID_STAT)
        for field in sorted({field for field, _ in errors}):
            self.stats.inc_value(f"{INVALID_STAT}/{field}")
        reasons = "; ".join(f"{field}: {reason[:200]}" for field, reason in errors)
        raise DropItem(f"invalid item {exported.get('id')!r} ({exported.get('url')}): {reasons}")

    def _valid(self, exported: dict[str, Any]) -> bool:
        """jsonschema-rs's verdict; False also for a value it cannot take (not JSON, e.g. a set), left to jsonschema."""
        try:
            return self.fast.is_valid(exported)
        except (TypeError, ValueError):
            return False
