"""Sputnik article URLs: which URLs are articles, their article id, and the item id derived from them.

Current layout: ``/{YYYYMMDD}/{slug}-{id}.html`` or ``/{YYYYMMDD}/{id}.html``; old layout (until Dec 2020):
``/{rubric}/{YYYYMMDD}{id}-{slug}/``. AMP copies (``/amp/…``) and print pages (``…-print.html``) are not articles.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from crawlers.sputnik import editions

_CURRENT = re.compile(r"^/(?P<day>\d{8})/(?:[^/]*-)?(?P<id>\d+)\.html$")
_LEGACY = re.compile(r"^/[a-z0-9_-]+/(?P<day>\d{8})(?P<id>\d+)(?:-[^/]*)?/?$", re.I)


def _path(url: str) -> str:
    return urlsplit(url.strip()).path or "/"


def article_id(url: str) -> str | None:
    """The outlet's article id in an article URL (``1091867654``), or None if the URL is not an article."""
    path = _path(url)
    if path.startswith("/amp/") or path.endswith("-print.html"):
        return None
    match = _CURRENT.match(path) or _LEGACY.match(path)
    return match.group("id") if match else None


def is_article_url(url: str) -> bool:
    """True for an article page URL of either layout (not AMP, print, tag, archive or home pages)."""
    return article_id(url) is not None


def article_key(edition_code: str, ident: str) -> str:
    """The item id of article ``ident`` of an edition: ``sputnik:{edition}:{articleId}``."""
    return f"sputnik:{edition_code}:{ident}"


def item_id(url: str) -> str:
    """``sputnik:{edition}:{articleId}``; a hash of the URL stands in when the host or the id is unknown."""
    host = urlsplit(url.strip()).hostname or ""
    edition = editions.by_host(host)
    ident = article_id(url)
    if edition and ident:
        return article_key(edition.code, ident)
    digest = hashlib.sha1(url.strip().encode("utf-8")).hexdigest()[:16]
    return f"sputnik:{edition.code if edition else host or 'unknown'}:url-{digest}"
