"""The items feed's exporter writes exactly the line Scrapy's own JSON lines exporter writes."""

import io

import pytest
from scrapy.exporters import JsonLinesItemExporter

from pipelines.feeds import ItemJsonLinesExporter
from tests.crawlers.sputnik.conftest import URLS, item


def _lines(exporter_class, items, **kwargs) -> bytes:
    out = io.BytesIO()
    exporter = exporter_class(out, encoding="utf-8", **kwargs)
    exporter.start_exporting()
    for article in items:
        exporter.export_item(article)
    exporter.finish_exporting()
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(URLS))
def test_same_bytes_as_scrapys_exporter_on_every_fixture_item(name):
    article = item(name)
    assert _lines(ItemJsonLinesExporter, [article]) == _lines(JsonLinesItemExporter, [article])


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
    assert storages["ftp2"] == "my.Storage" and storages["file"] == "pipelines.feeds.FlushingFileFeedStorage"
