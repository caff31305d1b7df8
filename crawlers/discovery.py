"""Outlet-agnostic discovery: article URLs with their dates from RSS/Atom feeds and XML sitemaps.

Parsing is hardened against hostile XML: entities are never expanded (no "billion laughs"), no DTD or external
resource is loaded, the network is never touched and lxml's default tree-size limits stay on. Gzipped sitemaps
(``.xml.gz`` served without ``Content-Encoding``) are inflated up to :data:`MAX_INFLATED_BYTES`; a sitemap is read
up to :data:`MAX_SITEMAP_URLS` entries. See docs/security.md.
"""

from __future__ import annotations

import gzip
import io
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

from lxml import etree

logger = logging.getLogger(__name__)

MAX_INFLATED_BYTES = 64 * 1024 * 1024
MAX_SITEMAP_URLS = 50_000  # the sitemap protocol's own limit per file; entries beyond it are not read
_GZIP_MAGIC = b"\x1f\x8b"


class Discovered(NamedTuple):
    """One URL found by discovery, with the date the source gives for it (lastmod, pubDate...), if any."""

    url: str
    date: datetime | None


class Sitemap(NamedTuple):
    """A parsed sitemap: ``is_index`` for a ``sitemapindex`` (entries are sitemaps), else a ``urlset``."""

    is_index: bool
    entries: list[Discovered]
    skipped: int = 0  # entries beyond ``max_urls``, not read


class DiscoveryError(ValueError):
    """The document is not a feed or sitemap this module can read."""


def parse_date(text: str | None) -> datetime | None:
    """An aware datetime from an ISO 8601 / W3C date (``lastmod``, Atom) or RFC 822 date (RSS); naive means UTC."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _inflate(body: bytes) -> bytes:
    if not body.startswith(_GZIP_MAGIC):
        return body
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
        data = f.read(MAX_INFLATED_BYTES + 1)
    if len(data) > MAX_INFLATED_BYTES:
        raise DiscoveryError(f"gzipped document inflates beyond {MAX_INFLATED_BYTES} bytes")
    return data


def _root(body: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=True, remove_pis=True
    )
    try:
        root = etree.fromstring(_inflate(body), parser=parser)
    except etree.XMLSyntaxError as e:
        raise DiscoveryError(f"not XML: {e}") from None
    if root is None:
        raise DiscoveryError("empty or unreadable XML document")
    if root.getroottree().docinfo.internalDTD is not None:
        logger.warning("XML document <%s> declares a DTD (entities): read without expanding or loading them", root.tag)
    return root


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _child_text(el: etree._Element, *names: str) -> str | None:
    """Text of the first child whose local name is one of ``names`` (in the order given)."""
    children = {_local(c): c for c in reversed(el)}
    for name in names:
        if name in children and children[name].text and children[name].text.strip():
            return children[name].text.strip()
    return None


def parse_feed(body: bytes) -> list[Discovered]:
    """Entries of an RSS 2.0 / RSS 1.0 / Atom feed: link and publication (or update) date, in feed order."""
    root = _root(body)
    found: list[Discovered] = []
    for el in root.iter():
        name = _local(el)
        if name == "item":
            url = _child_text(el, "link", "guid")
            date = _child_text(el, "pubDate", "date", "updated", "published")
        elif name == "entry":
            links = [c for c in el if _local(c) == "link" and c.get("rel", "alternate") == "alternate"]
            url = links[0].get("href") if links else None
            date = _child_text(el, "updated", "published")
        else:
            continue
        if url:
            found.append(Discovered(url.strip(), parse_date(date)))
    return found


def parse_sitemap(body: bytes, max_urls: int = MAX_SITEMAP_URLS) -> Sitemap:
    """Entries of a sitemap ``urlset`` or ``sitemapindex``: ``loc`` and ``lastmod`` (or a news publication date).

    At most ``max_urls`` entries are read; the rest are counted in ``Sitemap.skipped`` and logged."""
    root = _root(body)
    kind = _local(root)
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError(f"not a sitemap: root element is <{kind}>")
    entries: list[Discovered] = []
    listed = [el for el in root if _local(el) in ("url", "sitemap")]
    if len(listed) > max_urls:
        logger.warning(
            "sitemap lists %d entries, more than the %d allowed: reading the first %d", len(listed), max_urls, max_urls
        )
    for el in listed[:max_urls]:
        loc = _child_text(el, "loc")
        if not loc:
            continue
        date = _child_text(el, "lastmod")
        if date is None:
            news = next((c for c in el if _local(c) == "news"), None)
            date = _child_text(news, "publication_date") if news is not None else None
        entries.append(Discovered(loc, parse_date(date)))
    return Sitemap(kind == "sitemapindex", entries, max(0, len(listed) - max_urls))
