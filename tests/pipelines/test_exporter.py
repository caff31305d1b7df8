"""The items feed's exporter writes the JSON Scrapy's own JSON lines exporter writes: same values, same key order."""

import datetime
import io
import json

import pytest
from scrapy.exporters import JsonLinesItemExporter
from scrapy.settings import Settings

from pipelines.feeds import ItemJsonLinesExporter, items_feed
from pipelines.manifest import manifest_template
from tests.crawlers.sputnik.conftest import URLS, item


def _lines(exporter_class, items, **kwargs) -> bytes:
    out = io.BytesIO()
    exporter = exporter_class(out, encoding="utf-8", **kwargs)
    exporter.start_exporting()
    for article in items:
        exporter.export_item(article)
    exporter.finish_exporting()
    return out.getvalue()


def _parsed(lines: bytes) -> list:
    """Each line as JSON, key order kept (dicts become lists of pairs)."""
    return [json.loads(line, object_pairs_hook=list) for line in lines.splitlines()]


@pytest.mark.parametrize("name", sorted(URLS))
def test_same_json_as_scrapys_exporter_on_every_fixture_item(name):
    article = item(name)
    ours, scrapys = _lines(ItemJsonLinesExporter, [article, article]), _lines(JsonLinesItemExporter, [article, article])
    assert _parsed(ours) == _parsed(scrapys) and ours.count(b"\n") == 2
    assert article.headline.encode() in ours  # UTF-8 as it is, not \u escapes


def test_types_orjson_does_not_know_go_through_scrapys_encoder():
    record = {"when": datetime.date(2021, 12, 28), "tags": {"mali"}}
    ours, scrapys = _lines(ItemJsonLinesExporter, [record]), _lines(JsonLinesItemExporter, [record])
    assert _parsed(ours) == _parsed(scrapys) == [[("when", "2021-12-28"), ("tags", ["mali"])]]


def test_non_string_keys_become_strings_as_json_dumps_makes_them():
    record = {7: "a", None: "b"}  # Scrapy's own exporter fails on these
    assert _lines(ItemJsonLinesExporter, [record]) == json.dumps(record, separators=(",", ":")).encode() + b"\n"


def test_fields_to_export_keeps_scrapys_behaviour():
    article = item(sorted(URLS)[0])
    fields = ["id", "headline"]
    chosen = _lines(ItemJsonLinesExporter, [article], fields_to_export=fields)
    assert chosen == _lines(JsonLinesItemExporter, [article], fields_to_export=fields)
    assert chosen.count(b'"') == 8  # two keys and two values, nothing else


def test_the_add_on_keeps_a_projects_own_exporters_and_storages():
    from scrapy.settings import Settings

    from pipelines.feeds import ITEMS_FORMAT, ItemsAddon

    settings = Settings({"ITEMS_URI": "out.jsonl"})
    settings.set("FEED_EXPORTERS", {"csv2": "my.Exporter"}, "project")
    settings.set("FEED_STORAGES", {"ftp2": "my.Storage"}, "project")
    ItemsAddon().update_settings(settings)
    exporters, storages = settings.getdict("FEED_EXPORTERS"), settings.getdict("FEED_STORAGES")
    assert exporters == {"csv2": "my.Exporter", ITEMS_FORMAT: "pipelines.feeds.ItemJsonLinesExporter"}
    assert storages["ftp2"] == "my.Storage" and storages["file"] == "pipelines.feed_files.FlushingFileFeedStorage"


@pytest.mark.parametrize("uri", ["ftp://user:pw@ftp.example/items.jsonl", "gs://bucket/items.jsonl", "stdout:"])
def test_items_uris_whose_lines_are_not_written_at_once_are_refused_at_start(uri):
    """Scrapy uploads such feeds from a temporary file at the end: a failed upload lost items recorded as done."""
    with pytest.raises(ValueError, match=r"ITEMS_URI: \w+:// is not supported") as refused:
        items_feed(Settings({"ITEMS_URI": uri}))
    assert "pw" not in str(refused.value)
    with pytest.raises(ValueError, match=r"ITEMS_MANIFEST_URI: \w+:// is not supported"):
        manifest_template(Settings({"ITEMS_URI": "items.jsonl", "ITEMS_MANIFEST_URI": uri}))


@pytest.mark.parametrize(
    "uri", ["data/items/%(run)s.jsonl", "/srv/items.jsonl", "file:///srv/i.jsonl", "s3://b/i.jsonl"]
)
def test_local_and_s3_items_uris_are_accepted(uri):
    assert items_feed(Settings({"ITEMS_URI": uri}))[0].startswith(uri.split("%")[0])
    assert manifest_template(Settings({"ITEMS_URI": uri})).endswith("%(run)s.manifest.json")
