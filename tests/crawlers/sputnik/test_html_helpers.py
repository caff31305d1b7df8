"""The fast paths of the extraction helpers give exactly what the slow, obvious versions give."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html
import pytest
from lxml import etree
from parsel import Selector

from crawlers.errors import UnreadablePage
from crawlers.sputnik import pages
from crawlers.sputnik.pages import common, current, legacy, newsfeed, parse_newsfeed
from crawlers.sputnik.pages.html import absolute, decode, microdata, norm, parse, parse_page, text_content, xp
from tests.crawlers.sputnik.conftest import SEED, URLS, read

BASES = ["https://snanews.de/20201216/x-1.html?utm=1#top", "https://de.sputniknews.com:8443/politik/", "ftp://h/x"]
HREFS = [
    "/politik/20200304326539003-a/",
    "/a/b?q=1&r=/x#frag",
    "/a/./b/../c",
    "/a/..",
    "/.well-known/x",
    "/a\nb",
    "/a\tb",
    "//cdn.example.org/img.jpg",
    "relative/path.html",
    "../up.html",
    "?page=2",
    "/a;params/b;p2",
    "/ümlaut path/",
    "/",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("href", HREFS)
def test_absolute_matches_urljoin(base, href):
    assert absolute(href, base) == urljoin(base, href)
    assert absolute(f"  {href} ", base) == urljoin(base, href)


@pytest.mark.parametrize("href", ["", "  ", "#x", "javascript:void(0)", "mailto:a@b.c", None])
def test_absolute_drops_non_links(href):
    assert absolute(href, BASES[0]) is None


@pytest.mark.parametrize("char", ["\xa0", "\u2009", "\u3000", "\t", "\n", "\x0b", "\x1c", "\u2028"])
def test_norm_collapses_what_the_regex_did(char):
    text = f"{char} a{char}{char}b \u200bc {char}"
    assert norm(text) == re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u200b", "")).strip() == "a b c"


def test_text_content_and_microdata_on_either_element_class():
    nested = '<div itemscope itemprop="x"><i itemprop="name">C</i></div>'
    markup = f'<div itemscope><span itemprop="name"> A <b>B</b></span>{nested}</div>'
    for root in (parse(f"<html><body>{markup}</body></html>"), lxml.html.document_fromstring(markup)):
        scope = root.find(".//div")
        assert text_content(scope) == " A BC"
        props = microdata(scope)
        assert props["name"] == ["A B"]  # the nested item's name stays in the nested item
        assert microdata(props["x"][0]) == {"name": ["C"]}


def test_parse_newsfeed_accepts_text_bytes_selector_and_element():
    body = read(SEED)
    url = URLS[SEED]
    expected = parse_newsfeed(body, url)
    assert len(expected) == 20
    text = body.decode("utf-8")
    for given in (text, Selector(text=text), lxml.html.document_fromstring(body), parse(text)):
        assert parse_newsfeed(given, url) == expected


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("header", [None, "UTF-8", "utf8", "windows-1251"])
def test_bytes_parse_exactly_like_their_decoded_text(prefix, header):
    page = '<html><head><meta charset="windows-1251"></head><body><p>Привет – ü</p></body></html>'
    body = prefix + page.encode()
    assert parse_page(body, header).findtext(".//p") == parse(decode(body, header)).findtext(".//p")
    if prefix or header in ("UTF-8", "utf8"):  # UTF-8 by BOM or header: the lying meta must not win
        assert parse_page(body, header).findtext(".//p") == "Привет – ü"


def test_non_utf8_and_damaged_bytes_take_the_decoded_text():
    page = '<html><head><meta charset="windows-1251"></head><body><p>Привет</p></body></html>'
    assert parse_page(page.encode("cp1251")).findtext(".//p") == "Привет"
    damaged = ("<html><body><p>" + "Привет " * 40).encode() + b"\xff</p></body></html>"  # one invalid byte
    assert parse_page(damaged).findtext(".//p").endswith("Привет \ufffd")


def _compiled_xpaths() -> list:
    """Every module-level compiled XPath of the page objects."""
    modules = (pages, common, current, legacy, newsfeed)
    return [value for module in modules for value in vars(module).values() if isinstance(value, etree.XPath)]


@pytest.mark.parametrize("name", sorted(URLS))
def test_descendant_axis_finds_what_the_double_slash_found(name):
    root = parse(read(name), "utf-8")
    contexts = [root, *root.iter("div")][::7]  # the document and a sample of subtrees
    checked = 0
    for compiled in _compiled_xpaths():
        if "/descendant::" not in compiled.path:
            continue
        plain = etree.XPath(compiled.path.replace("/descendant::", "//"))
        for node in contexts:
            assert compiled(node) == plain(node), compiled.path
        checked += 1
    assert checked >= 20


def _obvious_check(text: str) -> str | None:
    """The checks of ``_decoded`` written on a stripped copy: the error message, or None."""
    stripped = text.strip()
    if not stripped:
        return "empty body"
    if "<" not in stripped[:4096]:
        return "no HTML markup in the input"
    if stripped.count("\ufffd") > len(stripped) // 20:
        return "undecodable input"
    return None


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000",
        "\u200b<p>",  # a zero-width space is not whitespace
        " " * 5000 + "<p>x</p>",
        "x" * 4095 + "<p>",
        "x" * 4096 + "<p>",
        "\n" * 10 + "x" * 4095 + "<p>" + " " * 50,
        "<p>" + "\ufffd" * 10 + "a" * 190,  # 10 of 203: not more than 5%
        "<p>" + "\ufffd" * 11 + "a" * 190,
        " " * 400 + "<p>" + "\ufffd" * 10 + "a" * 190 + " " * 400,  # whitespace does not dilute the share
        "<p>\ufffd",
    ],
)
def test_decoding_checks_match_the_stripped_copy(text):
    expected = _obvious_check(text)
    if expected is None:
        assert decode(text) == text
    else:
        with pytest.raises(UnreadablePage, match=expected):
            decode(text)


@pytest.mark.parametrize("name", sorted(URLS))
def test_text_content_of_leaves_is_the_xpath_string_value(name):
    synthetic = "<p>a&amp;b&#169;c&unknown;d</p><p>a<!--c-->b</p><p><?pi x?></p><p>\x00\r\n x</p><p></p>"
    for root in (parse(read(name), "utf-8"), parse(f"<html><body>{synthetic}</body></html>")):
        nodes = [node for node in root.iter() if isinstance(node.tag, str)]  # XPath takes no comment as context
        assert sum(1 for node in nodes if len(node) == 0) >= 3
        for node in nodes:
            assert text_content(node) == etree.XPath("string()")(node)


def test_double_slash_inside_a_string_literal_is_left_alone():
    links = xp('//a[starts-with(@href, "https://sputnikglobe.com/")]')
    assert links.path == '/descendant::a[starts-with(@href, "https://sputnikglobe.com/")]'
    root = etree.fromstring('<div><a href="https://sputnikglobe.com/x">x</a><a href="/y">y</a></div>')
    assert [a.text for a in links(root)] == ["x"]
