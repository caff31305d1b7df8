"""The old "b-article" layout, field by field, on the four real de.sputniknews.com pages."""

import pytest

from tests.crawlers.sputnik.conftest import URLS, assert_valid, item

INTERVIEW = "real/de-sputniknews-com-2020-interview-old-layout-328189042.html"
PANORAMA = "real/de-sputniknews-com-2019-panorama-short-old-layout-324763619.html"
MERKEL = "real/de-sputniknews-com-old-layout-renewrs-88.html"
AKK = "real/de-sputniknews-com-old-layout-renewrs-65.html"

# page: (id, headline start, published, modified, authors, first tag (name, url), credit, section)
EXPECTED = {
    INTERVIEW: (
        "sputnik:de:328189042",
        "Nikol Paschinjan: Bakus und Ankaras Pläne",
        "2020-10-15T18:15:00+02:00",  # meta says 18:15:00Z; p_ts 1602778500 = 16:15 UTC
        "2020-10-16T17:12:35+02:00",
        [],
        ("Armenien", "https://de.sputniknews.com/tags/geo_Armenien/"),
        "© Sputnik / Walerij Melnikow",
        "Interviews",
    ),
    PANORAMA: (
        "sputnik:de:324763619",
        "Anschlagsserie in Sri Lanka",
        "2019-04-21T13:47:43+02:00",
        "2019-04-21T13:47:44+02:00",
        [],
        ("Explosion", "https://de.sputniknews.com/tags/event_Explosion/"),
        "© REUTERS / DINUKA LIYANAWATTE",
        "Panorama",
    ),
    MERKEL: (
        "sputnik:de:326539003",
        "Kommt nach Merkels Jawort mehr Geld für Erdogan?",
        "2020-03-04T09:48:31+01:00",
        "2020-03-05T08:59:26+01:00",
        [("Liudmila Kotlyarova", "https://de.sputniknews.com/authors/liudmila_kotlyarova/")],
        ("Griechenland", "https://de.sputniknews.com/tags/geo_Griechenland/"),
        "© AFP 2020 / TURKISH PRESIDENTIAL PRESS SERVICE / HANDOUT",
        "Politik",
    ),
    AKK: (
        "sputnik:de:325955931",
        "Kramp-Karrenbauer will mehr Auslandseinsätze der Bundeswehr",
        "2019-11-06T20:47:29+01:00",
        "2019-11-06T21:51:15+01:00",
        [],
        ("Annegret Kramp-Karrenbauer", "https://de.sputniknews.com/tags/person_Annegret_Kramp-Karrenbauer/"),
        "© AP Photo / Michael Sohn",
        "Politik",
    ),
}


@pytest.mark.parametrize("page", list(EXPECTED))
def test_fields(page):
    ident, headline, published, modified, authors, first_tag, credit, section = EXPECTED[page]
    article = item(page)
    assert article.id == ident
    assert article.canonicalUrl == URLS[page]
    assert article.headline.startswith(headline)
    assert (article.datePublished, article.dateModified) == (published, modified)
    assert article.datePublishedRaw.endswith("Z")  # kept as declared, wrong offset and all
    assert [(a.name, a.url) for a in article.authors] == authors
    assert (article.tags[0].name, article.tags[0].url) == first_tag
    assert article.mainImage.credit == credit
    assert article.mainImage.caption == article.mainImage.alt
    assert article.articleSection == section
    assert article.metadata.parser == "sputnik/legacy@1"
    assert article.languageEditions == []  # filled by JavaScript on these pages: correct, and not partial
    assert article.metadata.partial is False
    assert_valid(article)


INLINE_CARDS = {INTERVIEW: 2, PANORAMA: 0, MERKEL: 1, AKK: 1}


@pytest.mark.parametrize("page", list(EXPECTED))
def test_body_has_no_boilerplate(page):
    article = item(page)
    body = article.articleBody
    assert article.description not in body
    for junk in (
        ">>>",
        "<<<",
        "Zum Thema",
        "Die in diesem Artikel vorgebrachten Ansichten",
        "Folgen",
        "Kommentar",
        "©",
    ):
        assert junk not in body, junk
    assert "\n\n\n" not in body and body == body.strip()
    cards = [r for r in article.related if r.kind == "inlineCard"]
    assert len(cards) == INLINE_CARDS[page]  # so the next check is not vacuous where cards exist
    for card in cards:
        assert card.headline not in body


def test_interview_questions_cards_and_photo():
    article = item(INTERVIEW)
    paragraphs = article.articleBody.split("\n\n")
    assert paragraphs[0].startswith("Der Generaldirektor der Internationalen Nachrichtenagentur Rossiya Segodnya")
    assert paragraphs[1].startswith("- Herr Ministerpräsident, guten Tag.")
    # loose text after an inline card is its own paragraph
    assert any(p.startswith("- Davon redet inzwischen die ganze Welt.") for p in paragraphs)
    assert "<em>- Herr Ministerpräsident, guten Tag." in article.articleBodyHtml
    cards = [r for r in article.related if r.kind == "inlineCard"]
    assert [(c.position, c.headline[:30]) for c in cards] == [
        (1, "Lawrow: Friedenstruppen sollen"),
        (2, "Alijew: Baku wird niemals der "),
    ]
    assert cards[0].url.startswith("https://de.sputniknews.com/politik/20201014328163691-")
    # each card keeps its lazy-loaded picture (data-src, not the svg placeholder), caption and credit
    assert cards[0].image.url.endswith("/328166254_0:259:1280:939_705x375_80_0_0_c018c425ae40c53800abb09678bd5ba5.jpg")
    assert (cards[0].image.caption, cards[0].image.credit) == ("Armenische Milizen in Bergkarabach", "© Sputnik")
    assert (cards[1].image.credit, cards[1].image.width, cards[1].image.height) == (
        "© Sputnik / Alexej Witwizkij",
        705,
        375,
    )
    assert not {c.image.url for c in cards} & {i.url for i in article.images}
    photo = article.images[1]
    assert photo.credit == "© Sputnik / Wladimir Trefilow"
    assert photo.caption.startswith("Der armenische Premier Nikol Paschinjan spricht per Videokonferenz")
    assert photo.caption not in article.articleBody
    assert article.sourceCredit == "Sputnik"  # the microdata author is an Organization, not a person


def test_read_also_lists_and_in_text_promos():
    related = item(PANORAMA).related
    read_also = [r for r in related if r.kind == "readAlso"]
    assert read_also[0].headline.startswith("Blutiger Ostersonntag in Sri Lanka")  # ">>>Mehr zum Thema: …<<<"
    assert [r.position for r in read_also] == list(range(1, len(read_also) + 1))
    assert ("Mobile-App", "https://de.sputniknews.com/wwtest/20201210328480538-mobile-app/") in [
        (r.headline, r.url) for r in read_also
    ]
    feed = [r for r in related if r.kind == "newsfeed"]
    assert len(feed) == 17 and feed[0].headline.startswith("Kreml äußert sich")
    assert (feed[0].datePublishedRaw, feed[0].datePublished) == ("08/12 13:52", None)  # no year, no zone


# The per-field XPath scans of the article column that the refs index replaced: both must find the same nodes.
_COLUMN_XPATHS = {
    "rubric": ".//a[cls(b-article__refs-rubric)]",
    "authors": ".//div[cls(b-article__refs-author)]//a",
    "tags": ".//*[cls(b-article__refs-tags)]//a",
    "read_also": ".//dl[cls(b-article__refs-item)]//dd//a[@href]",
}
_NESTED = """<html><body>
<div class="b-article b-article__refs-author"><a href="/self">the column itself is not inside itself</a>
 <a class="b-article__refs-rubric x" href="/r1">Rubric</a><span class="b-article__refs-rubric">not an a</span>
 <div class="b-article__refs-author"><a href="/a1">A1</a>
  <div class="b-article__refs-author"><a href="/a2">A2, nested</a></div><a href="/a3">A3</a></div>
 <span class="b-article__refs-author"><a href="/no">a span, not a div</a></span>
 <div class="b-article__refs-author"><a href="/a4">A4</a></div>
 <ul class="b-article__refs-tags"><li><a href="/t1">T1</a><p class="b-article__refs-tags"><a href="/t2">T2</a></p></li>
  <li><a href="/t3">T3</a></li></ul>
 <dl class="b-article__refs-item"><dd><a href="/d1">D1</a></dd>
  <dt><dl class="b-article__refs-item"><dd><a href="/d2">D2</a><a>no href</a></dd></dl></dt></dl>
 <dl class="b-article__refs-itemx"><dd><a href="/no">another class</a></dd></dl>
</div>
<div class="b-article__refs-author"><a href="/out">outside the column</a></div>
</body></html>"""


def _refs_fields(page) -> dict[str, list]:
    from crawlers.sputnik.pages.legacy import _ANCHORS, _DD_LINKS, _first_tagged, _inside

    rubric = _first_tagged(page.refs.all("b-article__refs-rubric"), "a")
    return {
        "rubric": [rubric] if rubric is not None else [],
        "authors": _inside(page.refs.all("b-article__refs-author"), _ANCHORS, tag="div"),
        "tags": _inside(page.refs.all("b-article__refs-tags"), _ANCHORS),
        "read_also": _inside(page.refs.all("b-article__refs-item"), _DD_LINKS, tag="dl"),
    }


@pytest.mark.parametrize("page", [*EXPECTED, None])
def test_refs_index_finds_what_the_column_xpaths_find(page):
    from crawlers.sputnik.pages.html import parse, xp
    from crawlers.sputnik.pages.legacy import LegacyPage
    from tests.crawlers.sputnik.conftest import FIXTURES

    markup = (FIXTURES / page).read_bytes() if page else _NESTED.encode()
    legacy = LegacyPage(parse(markup, "utf-8"), "https://de.sputniknews.com/x/", 200, None)
    expected = {name: xp(path)(legacy.article) for name, path in _COLUMN_XPATHS.items()}
    expected["rubric"] = expected["rubric"][:1]
    assert _refs_fields(legacy) == expected
    assert expected["tags"] and expected["read_also"]  # the comparison is not between empty lists
    if page is None:  # nested containers: each link once, in document order
        assert [a.get("href") for a in expected["authors"]] == ["/a1", "/a2", "/a3", "/a4"]
        assert [a.get("href") for a in expected["tags"]] == ["/t1", "/t2", "/t3"]
        assert [a.get("href") for a in expected["read_also"]] == ["/d1", "/d2"]
