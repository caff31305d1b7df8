"""The newsfeed widget (``div.lenta`` on pages, also served alone at ``/services/widget/lenta/``)."""

from __future__ import annotations

from datetime import datetime

from crawlers import dates
from crawlers.items import RelatedLink
from crawlers.sputnik.pages.html import ClassIndex, absolute, norm, parse_page, text_content, xp

_ITEMS = xp(".//div[cls(lenta__item)]")


def entry_instant(raw: str | None, unixtime: str | None, reference: datetime | None) -> datetime | None:
    """The instant of a dated entry: its ``data-unixtime`` shown in the offset its visible clock implies.

    Without a timestamp the visible text ("21:05 GMT", "Yesterday, 22:14 GMT", "16:47 16.12.2020") is resolved
    against ``reference`` (the page's publication instant).
    """
    unix = dates.from_unix(unixtime)
    dated = dates.parse_visible(raw)  # a full date needs no reference; None for a bare clock
    shown = dated if dated is not None else dates.parse_visible(raw, reference or unix)
    if unix is not None:
        return dates.reconcile(shown, unix, time_only=dated is None)
    if shown is not None and shown.tzinfo is None and reference is not None:
        return shown.replace(tzinfo=reference.tzinfo)
    return shown


def parse_newsfeed(html_or_selector, base_url: str, reference: datetime | None = None) -> list[RelatedLink]:
    """Newsfeed entries (``kind="newsfeed"``, positions from 1) from page or widget markup.

    Accepts HTML text or bytes, a parsel ``Selector`` or an lxml element. ``reference`` (the page's own publication
    instant) dates entries that show only a clock and carry no ``data-unixtime``.
    """
    node = getattr(html_or_selector, "root", html_or_selector)
    if isinstance(node, bytes | str):
        node = parse_page(node)
    links: list[RelatedLink] = []
    for item in _ITEMS(node):
        anchor = next(item.iter("a"), None)
        url = absolute(anchor.get("href"), base_url) if anchor is not None else None
        if not url:
            continue
        parts = ClassIndex(item.iter())
        date_el = parts.first("lenta__item-date")
        raw = norm(text_content(date_el)) if date_el is not None else None
        unixtime = date_el.get("data-unixtime") if date_el is not None else None
        title_el = parts.first("lenta__item-text")
        headline = norm(text_content(title_el if title_el is not None else anchor))
        links.append(
            RelatedLink(
                url=url,
                headline=headline or None,
                datePublished=dates.to_iso(entry_instant(raw, unixtime, reference)),
                datePublishedRaw=raw or None,
                kind="newsfeed",
                position=len(links) + 1,
            )
        )
    return links
