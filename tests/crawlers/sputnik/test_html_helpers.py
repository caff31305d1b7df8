"""The fast paths of the extraction helpers give exactly what the slow, obvious versions give."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html
import pytest
from conftest import SEED, URLS, read
from parsel import Selector

from crawlers.sputnik.pages import parse_newsfeed
from crawlers.sputnik.pages.html import absolute, microdata, norm, parse, text_content

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
