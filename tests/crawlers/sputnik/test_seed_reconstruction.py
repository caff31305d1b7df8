"""Every fact of the seed article (issue 2 §5) survives extraction of its reconstructed page."""

from crawlers.sputnik import editions
from crawlers.sputnik.pages import extract_article
from tests.crawlers.sputnik.conftest import SEED, URLS, assert_valid, item, read

HEADLINE = "Russia Considers Mali Gov’t. as Legitimate, Cooperation as Positive, Diplomat Says"
CAPTION_START = "French Barkhane forces patrol the streets of Timbuktu, Mali, Wednesday Sept. 29, 2021."
CARD_HEADLINE = "‘France Pisses Us Off’: Malians Hail Russian Advisers’ Arrival as Paris Quits Anti-Terror War"
FEED_TIMES = (
    "21:05 20:38 20:33 20:19 19:54 19:49 19:36 19:19 19:16 18:51 "
    "18:42 18:32 18:02 17:50 17:25 16:50 16:34 16:31 16:14 15:35"
)


def test_identity_text_and_dates():
    article = item(SEED)
    assert article.url == article.canonicalUrl == URLS[SEED]
    assert article.id == "sputnik:en:1091867654"
    assert article.headline == HEADLINE
    assert article.description == (
        "Russia considers the current government in Mali to be legitimate and views cooperation with it as "
        "positive, Deputy Permanent Representative to the United Nations Dmitry Polyanskiy said on Tuesday."
    )
    assert (article.datePublished, article.dateModified) == ("2021-12-28T20:33:00+00:00", "2021-12-28T20:35:00+00:00")
    assert (article.copyrightYear, article.genre, article.inLanguage) == (2021, "News", "en")
    assert article.edition.code == "en" and article.sourceCredit == "Sputnik"
    assert article.authors == []  # the seed names no person
    assert article.metadata.partial is False
    assert_valid(article)


def test_tags():
    tags = item(SEED).tags
    assert [t.name for t in tags] == ["mali", "africa", "russia", "cooperation", "troops", "anti-terrorist", "france"]
    assert all(t.url and t.url.startswith("https://sputniknews.com/") for t in tags)


def test_main_image_crops_caption_credit():
    image = item(SEED).mainImage
    assert image.url == (
        "https://cdnn1.img.sputniknews.com/img/07e5/0b/13/"
        "1090842825_0:321:3070:2048_1920x0_80_0_0_10d99d14dc93b8d2751c36ba432b649d.jpg"
    )
    assert [(c.width, c.height) for c in image.crops] == [(1920, 1080), (1920, 1440), (1920, 1920)]
    assert image.crops[1].url.endswith("1090842825_226:0:2957:2048_1920x0_80_0_0_8f43eac83ca8ceaaf43d66ba72b270df.jpg")
    assert image.caption.startswith(CAPTION_START) and image.caption.endswith("saying they were idolatrous.")
    assert image.credit == "© AP Photo / MOULAYE SAYAH"


def test_publisher():
    publisher = item(SEED).publisher
    assert (publisher.name, publisher.email, publisher.telephone, publisher.legalName) == (
        "Sputnik International",
        "feedback@sputniknews.com",
        "+74956456601",
        "MIA „Rosiya Segodnya“",
    )
    assert (publisher.logo.width, publisher.logo.height) == (252, 60)
    assert item(SEED).copyrightHolder == publisher


def test_inline_card_resolved_from_yesterday():
    cards = [r for r in item(SEED).related if r.kind == "inlineCard"]
    assert len(cards) == 1
    card = cards[0]
    assert card.url == (
        "https://sputniknews.com/20211227/"
        "france-pisses-us-off-malians-hail-russian-advisers-arrival-as-paris-quits-anti-terror-war-1091846701.html"
    )
    assert card.headline == CARD_HEADLINE and card.position == 1
    assert (card.datePublishedRaw, card.datePublished) == ("Yesterday, 22:14 GMT", "2021-12-27T22:14:00+00:00")


def test_inline_card_keeps_its_picture_and_caption_out_of_the_article_images():
    card = next(r for r in item(SEED).related if r.kind == "inlineCard")
    caption = (
        "Malian soldiers of the 614th Artillery Battery are pictured during a training session on a D-30 howitzer with "
        "the European Union Training Mission (EUTM), to fight jihadists, in the camp of Sevare, Mopti region, in Mali "
        "March 23, 2021."
    )
    assert card.image.url.startswith("https://cdnn1.img.sputniknews.com/img/07e5/0c/1b/1091846569_")
    assert card.image.caption == caption  # the seed page's card text, without the site suffix of the alt text
    assert card.image.alt == caption + " - Sputnik International, 1920, 27.12.2021"
    assert (card.image.width, card.image.height, card.image.credit) == (600, 338, None)
    assert card.image.url not in [image.url for image in item(SEED).images]


def test_inline_card_date_without_unixtime_resolves_from_the_page_date():
    html = read(SEED).replace(b'data-unixtime="1640643240"', b"")
    card = next(r for r in extract_article(html, URLS[SEED]).related if r.kind == "inlineCard")
    assert card.datePublished == "2021-12-27T22:14:00+00:00"


def test_twenty_newsfeed_entries_with_times():
    feed = [r for r in item(SEED).related if r.kind == "newsfeed"]
    assert [r.position for r in feed] == list(range(1, 21))
    assert [r.datePublishedRaw for r in feed] == [f"{t} GMT" for t in FEED_TIMES.split()]
    assert [r.datePublished for r in feed] == [f"2021-12-28T{t}:00+00:00" for t in FEED_TIMES.split()]
    assert feed[0].headline.startswith("US Nuclear Aircraft Carrier Truman Ordered to Stay in Mediterranean")
    assert feed[2].headline == HEADLINE


def _feed(page: bytes) -> list:
    return [r.url for r in extract_article(page, URLS[SEED]).related if r.kind == "newsfeed"]


def test_the_newsfeed_block_is_div_widget_lenta_else_the_first_div_lenta():
    page = read(SEED)
    expected = _feed(page)
    body = b'<body id="body" class="site_en m-page-article">'
    decoy = b'<div class="x lenta"><div class="lenta__item"><a href="/d/">D</a></div></div>'
    with_decoy = page.replace(body, body + decoy, 1)
    assert with_decoy != page
    assert _feed(with_decoy) == expected  # the id wins over an earlier div.lenta
    without_id = with_decoy.replace(b'id="widgetLenta"', b"", 1)
    assert _feed(without_id) == ["https://sputniknews.com/d/"]  # then the first div carrying the class token
    assert _feed(page.replace(b'id="widgetLenta"', b"", 1)) == expected


def test_thirty_language_editions_with_regions():
    listed = item(SEED).languageEditions
    assert len(listed) == 30
    assert [e.code for e in listed] == [e.code for e in editions.EDITIONS]
    for entry in listed:
        table = editions.by_code(entry.code)
        assert (entry.region, entry.country, entry.languageEnglish) == (
            table.region,
            table.country,
            table.language_english,
        )
    assert (listed[1].region, listed[1].country, listed[1].language) == ("Worldwide", "Mundo", "Español")
    assert (listed[-1].region, listed[-1].country) == ("South America", "Brasil")


def test_body():
    body = item(SEED).articleBody
    assert body.startswith("UNITED NATIONS (Sputnik) - Russia considers")
    assert CARD_HEADLINE not in body and "France Pisses Us Off" not in body
    assert CAPTION_START not in body and "Malian soldiers of the 614th" not in body
    for junk in ("Subscribe", "MOULAYE SAYAH", "Newsfeed", "Discuss", "300000", "Yesterday", "Registration"):
        assert junk not in body, junk
    paragraphs = body.split("\n\n")
    assert len(paragraphs) == 11  # the 11 paragraphs of the seed text
    assert paragraphs[-1].endswith("Burkina Faso, Chad, Niger and Mauritania.")
    assert paragraphs[4].startswith('"We have always had military cooperation')  # a quote block, kept
