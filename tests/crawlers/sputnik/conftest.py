"""Shared helpers for the Sputnik extraction tests: the fixture pages, their URLs, extraction and schema checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import jsonschema
from itemadapter import ItemAdapter

from crawlers.items import Article
from crawlers.schema import load_schema
from crawlers.sputnik.pages import extract_article

FIXTURES = Path(__file__).parents[2] / "fixtures" / "sputnik"
SEED = "reconstructed/sputniknews-com-20211228-mali-1091867654.html"
URLS = {
    "real/snanews-de-2020-article-new-layout-184985.html": (
        "https://snanews.de/20201216/traditionelle-fischerei-und-windkraft-184985.html"
    ),
    "real/de-sputniknews-com-2020-interview-old-layout-328189042.html": (
        "https://de.sputniknews.com/interviews/20201015328189042-paschinjan-bergkarabach-exklusiv/"
    ),
    "real/de-sputniknews-com-2019-panorama-short-old-layout-324763619.html": (
        "https://de.sputniknews.com/panorama/20190421324763619-anschlagsserie-sri-lanka-festnahmen/"
    ),
    "real/de-sputniknews-com-old-layout-renewrs-88.html": (
        "https://de.sputniknews.com/politik/20200304326539003-merkel-erdogan-gespraeche-experte/"
    ),
    "real/de-sputniknews-com-old-layout-renewrs-65.html": (
        "https://de.sputniknews.com/politik/20191106325955931-kramp-karrenbauer-will-mehr-auslandseinsaetze-der-bundeswehr-/"
    ),
    SEED: "https://sputniknews.com/20211228/russia-considers-mali-govt-as-legitimate-cooperation-as-positive-diplomat-says-1091867654.html",
}
DOWNLOADED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def read(name: str) -> bytes:
    """The bytes of a fixture page."""
    return (FIXTURES / name).read_bytes()


@cache
def item(name: str) -> Article:
    """The item of a fixture page (extracted once per test session)."""
    return extract_article(read(name), URLS[name], downloaded_at=DOWNLOADED)


def as_dict(article: Article) -> dict:
    """The item as the JSONL exporter sees it."""
    return ItemAdapter(article).asdict()


def assert_valid(article: Article) -> None:
    """The item validates against the checked-in schema and every date is ISO 8601 with an offset."""
    data = as_dict(article)
    validator = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, errors
    instants = [data["datePublished"], data["dateModified"]] + [r["datePublished"] for r in data["related"]]
    for value in filter(None, instants):
        assert _ISO.match(value), value
