"""Bad input gets a clear error or a partial item, never a crash."""

import pytest

from crawlers.errors import NotAnArticle, UnreadablePage
from crawlers.sputnik.pages import extract_article
from tests.crawlers.sputnik.conftest import SEED, URLS, assert_valid, read

SNA = "real/snanews-de-2020-article-new-layout-184985.html"
OLD = "real/de-sputniknews-com-old-layout-renewrs-88.html"


@pytest.mark.parametrize(
    "body", [b"", b"   \n ", "", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", b"just some text, no markup"]
)
def test_unreadable_input(body):
    with pytest.raises(UnreadablePage) as error:
        extract_article(body, "https://snanews.de/20201216/x-1.html")
    assert str(error.value) and "\n" not in str(error.value)


def test_non_article_page():
    home = (
        b"<html><head><title>SNA - Nachrichten</title></head><body><div class='lenta'></div><h1>Top</h1></body></html>"
    )
    with pytest.raises(NotAnArticle, match="SNA - Nachrichten"):
        extract_article(home, "https://snanews.de/")


@pytest.mark.parametrize("name", [SNA, OLD, SEED])
@pytest.mark.parametrize("fraction", [0.1, 0.35, 0.6])
def test_truncated_page_is_partial_or_error(name, fraction):
    html = read(name)
    try:
        article = extract_article(html[: int(len(html) * fraction)], URLS[name])
    except NotAnArticle:
        return  # cut before any article markup: a clear error is right
    assert_valid(article)
    if not (article.headline and article.articleBody and article.datePublished):
        assert article.metadata.partial is True
        assert any(w.startswith("missing ") for w in article.metadata.warnings)


def test_page_without_microdata_still_complete():
    html = read(SEED).decode("utf-8")
    start = html.index('<div class="article__meta"')
    end = html.index('<div class="article__header">')
    article = extract_article(html[:start] + html[end:], URLS[SEED])
    assert article.headline.startswith("Russia Considers Mali")
    assert article.datePublished == "2021-12-28T20:33:00+00:00"  # from article:published_time, checked by p_ts
    assert article.datePublishedRaw == "20211228T2033+0000"
    assert article.publisher is None and article.mainImage.crops == []
    assert article.metadata.partial is False
    assert any("microdata" in w for w in article.metadata.warnings)
    assert_valid(article)


def test_page_without_anything_but_a_title_is_partial():
    html = (
        b"<html><head><title>t</title></head><body><div class='article'>"
        b"<h1 class='article__title'>Only a title</h1></div></body></html>"
    )
    article = extract_article(html, "https://snanews.de/20201216/x-1.html")
    assert article.headline == "Only a title"
    assert article.metadata.partial is True
    assert set(article.metadata.warnings) >= {"missing articleBody", "missing datePublished"}
    assert_valid(article)


def _cyrillic_page(meta: bool) -> bytes:
    charset = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">' if meta else ""
    html = (
        f"<html><head>{charset}<title>Статья</title></head><body><div class='article'>"
        "<h1 class='article__title'>Заголовок статьи</h1><div class='article__body'><div class='article__block' "
        "data-type='text'><div class='article__text'>Москва — текст статьи.</div></div></div></div></body></html>"
    )
    return html.encode("windows-1251")


@pytest.mark.parametrize(("meta", "encoding"), [(True, None), (False, "windows-1251"), (True, "cp1251")])
def test_windows_1251(meta, encoding):
    article = extract_article(_cyrillic_page(meta), "https://sputnik.kg/20211228/x-1.html", encoding=encoding)
    assert article.headline == "Заголовок статьи"
    assert article.articleBody == "Москва — текст статьи."
    assert article.edition.code == "ky"


def test_windows_1251_without_any_declaration_is_not_silently_garbled():
    try:
        article = extract_article(_cyrillic_page(False), "https://sputnik.kg/20211228/x-1.html")
    except UnreadablePage as error:
        assert "encoding" in str(error)
    else:  # if a decoder guesses, it must guess right
        assert article.headline == "Заголовок статьи"


def test_unknown_host_still_gives_an_item():
    article = extract_article(read(SNA), "https://example.org/20201216/x-184985.html")
    assert article.edition.code == "de"  # the canonical link names snanews.de
    assert article.id == "sputnik:de:184985"


def test_control_characters_never_reach_the_text():
    html = read(SEED)
    head = 4096  # a NUL in the first bytes means binary input: only the later occurrences get control characters
    page = html[:head] + html[head:].replace(b"Russia Considers Mali", b"Russia\x00 Considers\x1b Mali")
    assert page != html
    item = extract_article(page, URLS[SEED])
    # lxml turns NUL into U+FFFD (kept: evidence of a damaged page); other control characters are dropped
    assert item.headline.startswith("Russia\ufffd Considers Mali")
    assert not any(ch in item.headline for ch in "\x00\x1b")
    assert_valid(item)


def test_a_publication_date_after_the_fetch_is_kept_and_flagged():
    page = read(SEED).replace(b"2021-12-28T20:33", b"2099-12-28T20:33")
    item = extract_article(page, URLS[SEED])
    assert item.datePublished.startswith("2099-12-28")
    assert any(w.startswith("datePublished 2099-12-28") and "after the fetch" in w for w in item.metadata.warnings)


def test_an_inline_photo_block_without_a_source_is_no_image_and_no_crash():
    html = read(OLD).replace(
        b'<div class="b-inject m-inject-min">',
        b'<div class="b-inject"><div class="b-inject-foto"></div></div><div class="b-inject m-inject-min">',
        1,
    )
    article = extract_article(html, URLS[OLD])
    assert_valid(article)
    assert all(image.url for image in article.images)
