"""The current layout, field by field, on the real snanews.de page."""

from tests.crawlers.sputnik.conftest import assert_valid, item

PAGE = "real/snanews-de-2020-article-new-layout-184985.html"
URL = "https://snanews.de/20201216/traditionelle-fischerei-und-windkraft-184985.html"


def test_identity_and_language():
    article = item(PAGE)
    assert article.id == "sputnik:de:184985"
    assert article.canonicalUrl == URL
    assert (article.edition.code, article.edition.host, article.inLanguage) == ("de", "snanews.de", "de")
    assert article.metadata.parser == "sputnik/current@1"
    assert article.metadata.partial is False
    assert_valid(article)


def test_headline_lead_and_dates():
    article = item(PAGE)
    assert article.headline == "Wie die Windkraft auf See die traditionelle Fischerei verdrängt"
    assert article.description.startswith("Dort, wo Windräder stehen, darf nicht gefischt werden.")
    assert article.description.endswith("fürchtet um ihre Existenz.")  # the full lead, not the truncated meta
    # microdata "2020-12-16T16:47+0100", confirmed by analytics:p_ts 1608133660 (15:47:40 UTC)
    assert article.datePublished == "2020-12-16T16:47:00+01:00"
    assert article.datePublishedRaw == "2020-12-16T16:47+0100"
    assert article.dateModified == "2020-12-16T16:47:00+01:00"


def test_authors_tags_section_keywords():
    article = item(PAGE)
    assert [(a.name, a.url) for a in article.authors] == [
        ("Valentin Raskatov", "https://snanews.de/author_raskatov_valentin/")
    ]
    assert article.sourceCredit is None
    assert [(t.name, t.url) for t in article.tags] == [
        ("Wirtschaft", "https://snanews.de/category_wirtschaft/"),
        ("Windkraft", "https://snanews.de/category_windkraft/"),
        ("Fischerei", "https://snanews.de/category_fischerei/"),
        ("Wasserstoff", "https://snanews.de/category_wasserstoff/"),
        ("Umweltschutz", "https://snanews.de/common_umweltschutz/"),
        ("Klimaschutz", "https://snanews.de/common_klimaschutz/"),
    ]
    assert article.articleSection == "Nachrichten"
    assert article.keywords[:2] == ["wirtschaft", "windkraft"]
    assert [b.name for b in article.breadcrumbs] == ["SNA", "Nachrichten", article.headline]


def test_main_image_caption_credit_crops():
    image = item(PAGE).mainImage
    assert image.url.endswith("186461_0:210:1920:1290_1920x0_80_0_0_34f882879cc43545f3262e571b0b2283.jpg")
    assert (image.caption, image.credit) == ("Fischkutter (Archivbild)", "© CC0 / Detmold / Pixabay")
    assert (image.width, image.height) == (1920, 1080)
    assert [(c.width, c.height) for c in image.crops] == [(1920, 1080), (1920, 1440), (1920, 1920)]


def test_publisher_and_declared_metadata():
    article = item(PAGE)
    assert article.publisher.name == "SNA"
    assert article.publisher.legalName == "MIA „Rosiya Segodnya“"
    assert (article.publisher.email, article.publisher.telephone) == ("info@snanews.de", "+493075010627")
    assert (article.publisher.logo.width, article.publisher.logo.height) == (157, 60)
    assert (article.copyrightYear, article.genre) == (2020, "Nachrichten")
    assert article.discussionUrl == URL + "?chat_room_id=184985"
    assert {(a.rel, a.hreflang) for a in article.alternates} == {
        ("alternate", "de"),
        ("alternate", "x-default"),
        ("amphtml", None),
    }


def test_body_paragraphs_quotes_and_no_boilerplate():
    article = item(PAGE)
    paragraphs = article.articleBody.split("\n\n")
    assert paragraphs[0] == article.description  # the announce text opens the body
    assert paragraphs[1].startswith("Offshore-Windparks stören keine Anwohner")
    assert "So viel Raum nehmen Offshore-Windparks weg" in paragraphs  # side-box heading kept
    assert any(p.startswith("„Den Ausbau der Windenergie") for p in paragraphs)  # the quote block kept
    assert paragraphs[-1].endswith("damit wenigstens einige Fischereiformen in Windparks möglich sind“.")
    for junk in ("Expandieren", "Minimieren", "Fischkutter (Archivbild)", "Newsticker", "Sputnik V", "&nbsp;", "\xa0"):
        assert junk not in article.articleBody, junk
    assert "\n\n\n" not in article.articleBody
    assert "<blockquote>„Den Ausbau" in article.articleBodyHtml
    assert '<a href="https://www.bmwi.de/' in article.articleBodyHtml
    assert "class=" not in article.articleBodyHtml and "<div" not in article.articleBodyHtml


def test_newsfeed_entries_with_offsets_from_unix_times():
    related = item(PAGE).related
    feed = [r for r in related if r.kind == "newsfeed"]
    assert len(feed) == 20 and [r.position for r in feed] == list(range(1, 21))
    first = feed[0]
    assert first.url == "https://snanews.de/20210219/land-genehmigt-russischen-corona-impfstoff-973133.html"
    assert first.headline == "30. Land genehmigt russischen Corona-Impfstoff „Sputnik V“"
    # "15:04" shown for data-unixtime 1613743496 (14:04:56 UTC): Berlin winter time
    assert (first.datePublishedRaw, first.datePublished) == ("15:04", "2021-02-19T15:04:56+01:00")
    assert not [r for r in related if r.kind == "inlineCard"]  # this page has no inline card
