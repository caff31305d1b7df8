"""The item contract: the dataclasses, the checked-in JSON Schema and its validator agree."""

import dataclasses

import jsonschema
from itemadapter import ItemAdapter

from crawlers import items, schema


def _minimal_article() -> items.Article:
    return items.Article(
        id="sputnik:en:1091867654",
        url="https://sputniknews.com/20211228/x-1091867654.html",
        canonicalUrl="https://sputniknews.com/20211228/x-1091867654.html",
        outlet="sputnik",
        edition=items.Edition(code="en", name="International", host="sputniknews.com", language="en"),
        inLanguage="en",
        headline="A headline",
        datePublished="2021-12-28T20:33:00+00:00",
        metadata=items.Metadata(dateDownloaded="2026-11-26T00:00:00+00:00", parser="sputnik/current@1"),
    )


def test_checked_in_schema_is_generated_from_the_dataclasses():
    assert schema.load_schema() == schema.build_schema(), "run: python -m crawlers.schema"


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(schema.load_schema())


def test_every_field_of_every_class_has_a_description():
    for cls in (items.Article, items.Image, items.Organization, items.RelatedLink, items.ArchivePointer):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("description"), f"{cls.__name__}.{f.name} has no description"


def test_schema_properties_are_exactly_the_item_fields():
    s = schema.load_schema()
    assert list(s["properties"]) == [f.name for f in dataclasses.fields(items.Article)]
    assert list(s["$defs"]["Image"]["properties"]) == [f.name for f in dataclasses.fields(items.Image)]


def test_an_exported_item_validates_and_carries_schema_version():
    exported = ItemAdapter(_minimal_article()).asdict()
    assert exported["schemaVersion"] == items.SCHEMA_VERSION
    jsonschema.Draft202012Validator(schema.load_schema()).validate(exported)


def test_a_wrong_type_or_unknown_field_is_rejected():
    validator = jsonschema.Draft202012Validator(schema.load_schema())
    exported = ItemAdapter(_minimal_article()).asdict()
    assert not validator.is_valid({**exported, "headline": 3})
    assert not validator.is_valid({**exported, "surprise": 1})
    bad_image = {**exported, "mainImage": {"url": "u", "caption": None}}
    assert not validator.is_valid(bad_image), "nested objects must have every field"


def test_to_dict_equals_itemadapter_asdict_on_every_fixture_item():
    from tests.crawlers.sputnik.conftest import URLS, item

    pointer = items.ArchivePointer("file:///w.warc.gz", "w.warc.gz", "<urn:uuid:1>", 10, 20, "sha1:X", "2026-01-01T00Z")
    articles = [dataclasses.replace(item(name), archive=pointer) for name in URLS]
    assert any(a.related and a.images and a.images[0].crops and a.tags for a in articles), "no nested lists to convert"
    for article in articles:
        exported = items.to_dict(article)
        assert exported == ItemAdapter(article).asdict()
        assert list(exported) == [f.name for f in dataclasses.fields(items.Article)]
        exported["tags"].append("x")  # a new list, not the item's
        assert "x" not in article.tags
    as_dict_item = {"url": "u", "archive": pointer, "n": (1, [pointer])}
    assert items.to_dict(as_dict_item) == ItemAdapter(as_dict_item).asdict()
