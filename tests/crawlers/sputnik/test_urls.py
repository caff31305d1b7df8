"""Article URL patterns of both layouts, article ids and item ids."""

import pytest

from crawlers.sputnik import urls


@pytest.mark.parametrize(
    ("url", "ident"),
    [
        ("https://sputniknews.com/20211228/russia-considers-mali-govt-1091867654.html", "1091867654"),
        ("https://sputnikglobe.com/20230801/1112233445.html", "1112233445"),
        ("https://snanews.de/20201216/traditionelle-fischerei-und-windkraft-184985.html", "184985"),
        ("https://de.sputniknews.com/politik/20200304326539003-merkel-erdogan-gespraeche-experte/", "326539003"),
        ("https://de.sputniknews.com/interviews/20201015328189042-paschinjan-bergkarabach-exklusiv/", "328189042"),
        ("https://snanews.de/amp/20201216/traditionelle-fischerei-und-windkraft-184985.html", None),
        ("https://sputniknews.com/20211228/russia-considers-mali-govt-1091867654-print.html", None),
        ("https://sputniknews.com/20211228/", None),
        ("https://sputniknews.com/category_mali/", None),
        ("https://de.sputniknews.com/tags/keyword_Bundeswehr/", None),
        ("https://sputniknews.com/", None),
    ],
)
def test_article_id_and_is_article(url, ident):
    assert urls.article_id(url) == ident
    assert urls.is_article_url(url) is (ident is not None)


def test_item_id_uses_the_edition_table_old_and_new_hosts():
    assert urls.item_id("https://sputniknews.com/20211228/x-1091867654.html") == "sputnik:en:1091867654"
    assert urls.item_id("https://sputnikglobe.com/20211228/x-1091867654.html") == "sputnik:en:1091867654"
    assert urls.item_id("https://de.sputniknews.com/politik/20200304326539003-x/") == "sputnik:de:326539003"


def test_item_id_falls_back_to_a_stable_hash():
    first = urls.item_id("https://example.org/20211228/x-1.html")
    assert first.startswith("sputnik:example.org:url-") and first == urls.item_id(
        "https://example.org/20211228/x-1.html"
    )
    assert urls.item_id("https://snanews.de/about/").startswith("sputnik:de:url-")
