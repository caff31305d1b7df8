"""Unit tests of the validation and dedupe pipelines (in-process, no crawl)."""

import dataclasses

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawlers import items
from pipelines.dedupe import DedupePipeline
from pipelines.validate import ValidatePipeline
from tests.crawlers.test_items import _minimal_article


def article(**changes) -> items.Article:
    """A valid article (the one of the item contract's tests), with ``changes`` applied."""
    return dataclasses.replace(_minimal_article(), **changes)


@pytest.fixture
def crawler():
    return get_crawler()


def test_a_valid_item_passes_unchanged(crawler):
    item = article()
    assert ValidatePipeline.from_crawler(crawler).process_item(item) is item
    assert crawler.stats.get_value("items/dropped/invalid") is None


def test_an_invalid_item_is_dropped_naming_field_and_reason(crawler):
    pipeline = ValidatePipeline.from_crawler(crawler)
    with pytest.raises(DropItem, match=r"headline: None is not of type 'string'"):
        pipeline.process_item(article(headline=None))
    with pytest.raises(DropItem, match=r"datePublished: .*is not a 'date-time'"):
        pipeline.process_item(article(datePublished="yesterday"))
    with pytest.raises(DropItem, match=r"metadata\.parser: 3 is not of type 'string'"):
        pipeline.process_item(article(metadata=items.Metadata(dateDownloaded="2026-11-26T11:00:00Z", parser=3)))
    assert crawler.stats.get_value("items/dropped/invalid") == 3
    assert crawler.stats.get_value("items/dropped/invalid/headline") == 1
    assert crawler.stats.get_value("items/dropped/invalid/datePublished") == 1
    assert crawler.stats.get_value("items/dropped/invalid/metadata.parser") == 1


def test_a_missing_or_unknown_field_in_a_dict_item_is_named(crawler):
    pipeline = ValidatePipeline.from_crawler(crawler)
    exported = dataclasses.asdict(article())
    del exported["headline"]
    with pytest.raises(DropItem, match="headline: 'headline' is a required property"):
        pipeline.process_item(exported)
    with pytest.raises(DropItem, match="surprise: Additional properties"):
        pipeline.process_item({**dataclasses.asdict(article()), "surprise": 1})
    assert crawler.stats.get_value("items/dropped/invalid/surprise") == 1


def test_duplicates_by_id_are_dropped_and_counted(crawler):
    pipeline = DedupePipeline.from_crawler(crawler)
    first = article()
    assert pipeline.process_item(first) is first
    assert pipeline.process_item(article(id="sputnik:en:2")).id == "sputnik:en:2"
    with pytest.raises(DropItem, match="duplicate item 'sputnik:en:1091867654'"):
        pipeline.process_item(article(headline="Same id, other headline"))
    assert crawler.stats.get_value("items/dropped/duplicate") == 1


def test_items_without_id_pass_dedupe_so_validation_can_name_the_field(crawler):
    pipeline = DedupePipeline.from_crawler(crawler)
    items_without_id = [{"headline": "a"}, {"headline": "b"}]
    assert [pipeline.process_item(i) for i in items_without_id] == items_without_id
    assert crawler.stats.get_value("items/dropped/duplicate") is None


def test_inlined_schema_reports_the_same_errors_as_the_schema_with_refs(crawler):
    from jsonschema import Draft202012Validator

    from crawlers.schema import load_schema
    from pipelines.validate import item_errors
    from tests.crawlers.sputnik.conftest import URLS, item

    with_refs = Draft202012Validator(load_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    inlined = ValidatePipeline.from_crawler(crawler).validator
    assert "$ref" not in str(inlined.schema) and "$ref" in str(with_refs.schema)
    exports = [items.to_dict(item(name)) for name in URLS]
    for exported in exports:
        assert item_errors(inlined, exported) == item_errors(with_refs, exported) == []
    exported = next(e for e in exports if e["images"] and e["images"][0]["crops"] and e["related"])
    exported["images"][0]["crops"][0]["width"] = "wide"
    exported["related"][0]["kind"] = 3
    exported["authors"].append({"name": "A", "nameRaw": "A", "url": None, "extra": 1})
    exported["mainImage"] = {"caption": None}
    exported["metadata"]["dateDownloaded"] = "yesterday"
    errors = item_errors(inlined, exported)
    assert errors == item_errors(with_refs, exported) and len(errors) >= 5, errors


def test_the_fast_validator_agrees_with_jsonschema_on_valid_and_invalid_items(crawler):
    from pipelines.validate import item_errors
    from tests.crawlers.sputnik.conftest import URLS, item

    pipeline = ValidatePipeline.from_crawler(crawler)
    exports = [items.to_dict(item(name)) for name in URLS]
    broken = [
        {**exports[0], "headline": None},
        {**exports[0], "datePublished": "2021-12-28 12:00"},  # no T, no offset: not an RFC 3339 date-time
        {**exports[0], "tags": {"a", "b"}},  # not JSON at all: jsonschema-rs refuses it, jsonschema names the field
        {key: value for key, value in exports[0].items() if key != "url"},
    ]
    for exported in exports + broken:
        assert pipeline._valid(exported) == (item_errors(pipeline.validator, exported) == []), exported.get("id")
    assert all(pipeline._valid(e) for e in exports) and not any(pipeline._valid(e) for e in broken)
    with pytest.raises(DropItem, match=r"tags: \{.*\} is not of type 'array'"):
        pipeline.process_item(broken[2])
