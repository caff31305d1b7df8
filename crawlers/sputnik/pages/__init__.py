"""Sputnik page objects: one per layout, chosen automatically, behind :func:`extract_article`.

``current`` is the platform layout every edition uses since 2020/21; ``legacy`` the old "b-article" layout. Both
use lxml only (no Scrapy), so the spider, ``scrapy extract`` and re-extraction of archives share them.
"""

from __future__ import annotations

from datetime import datetime

from crawlers.errors import NotAnArticle
from crawlers.items import Article
from crawlers.sputnik.pages.common import SputnikPage
from crawlers.sputnik.pages.current import CurrentPage
from crawlers.sputnik.pages.html import first, first_div_with, norm, parse_page, text_of, xp
from crawlers.sputnik.pages.legacy import LegacyPage
from crawlers.sputnik.pages.newsfeed import parse_newsfeed

__all__ = ["extract_article", "page_for", "parse_newsfeed"]

# The body of either layout, found by a scan that stops at it; pages without a body fall back to the headline.
_BODY_CLASSES = ("article__body", "b-article__text")
_HEADLINES = xp('//h1[contains(@class, "article__title")] | //div[contains(@class, "b-article__header-title")]')
_TITLE = xp("//title")


def page_for(root, url: str, http_status: int | None, downloaded_at: datetime | None) -> SputnikPage:
    """The page object for the layout of a parsed page; :class:`NotAnArticle` when neither layout matches."""
    for probe in (lambda: first_div_with(root, *_BODY_CLASSES), lambda: first(root, _HEADLINES)):
        anchor = probe()  # the headline scan runs only when the body probe finds no layout's body div
        if anchor is None:
            continue
        classes = (anchor.get("class") or "").split()
        if "b-article__text" in classes or "b-article__header-title" in classes:
            return LegacyPage(root, url, http_status, downloaded_at)
        if "article__body" in classes or "article__title" in classes:
            return CurrentPage(root, url, http_status, downloaded_at, anchor=anchor)
    title = text_of(first(root, _TITLE)) or "no title"
    raise NotAnArticle(f"not a Sputnik article page (no article markup of either layout): {norm(title)[:80]!r}")


def extract_article(
    body: bytes | str,
    url: str,
    *,
    encoding: str | None = None,
    http_status: int | None = 200,
    downloaded_at: datetime | None = None,
) -> Article:
    """The Article item of a saved or fetched page.

    ``encoding`` is the charset of the HTTP ``Content-Type`` header, if known (it wins over ``<meta charset>``).
    Raises :class:`~crawlers.errors.UnreadablePage` for empty, binary or undecodable input and
    :class:`~crawlers.errors.NotAnArticle` for a readable page that is not an article. A degraded article is
    returned with ``metadata.partial`` set and the reasons in ``metadata.warnings``.
    """
    root = parse_page(body, encoding)
    return page_for(root, url, http_status, downloaded_at).to_item()
