"""The replay's fixture site as data: hosts and articles from ``site/manifest.json``, plus optional overrides.

Stdlib only: the mitmproxy addon serves from this model, and the end-to-end tests ask it what the site holds
(``expected_articles`` and friends) instead of hard-coding URLs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

SITE_DIR = Path(__file__).parent / "site"
MANIFEST = SITE_DIR / "manifest.json"
SITES = {"fixture": MANIFEST, "hostile": SITE_DIR / "hostile.json"}  # ReplayServer(site=...) -> manifest
REPO_ROOT = Path(__file__).parent.parent
LATEST_LISTINGS = frozenset({"feed", "widget", "home"})
ALL_LISTINGS = LATEST_LISTINGS | {"sitemap"}


@dataclass(frozen=True)
class Host:
    """One host name the replay answers for."""

    name: str
    edition: str
    site_name: str = ""
    locale: str = ""
    discovery: bool = False  # serves the RSS feed, the newsfeed widget and a home page
    redirect_to: str | None = None  # answers every path with a 301 to the same path on this host
    images: str | None = None  # an image CDN: every /img/ path answers this file (relative to site/)
    tags: dict[str, str] = field(default_factory=dict)  # tag page path segment -> name (non-article pages)
    gzip: frozenset[str] = frozenset()  # generated page kinds served gzipped when the client accepts it
    chunked: frozenset[str] = frozenset()  # generated page kinds served with Transfer-Encoding: chunked
    hostile_sitemaps: tuple[str, ...] = ()  # hostile site: /hostile/sitemap-CASE.xml (replay/hostile.py)


@dataclass(frozen=True)
class Article:
    """One article URL of the site, with how it is listed and answered."""

    url: str
    kind: str  # real | reconstructed | synthetic
    title: str
    published: datetime
    lastmod: datetime
    link: str  # the URL that feeds, sitemaps, widget and home list (may redirect to ``url``)
    listed: frozenset[str] = ALL_LISTINGS
    file: str | None = None  # page body, relative to the repository root (or absolute, from overrides)
    body: str | None = None  # inline page body (overrides only)
    tags: tuple[str, ...] = ()
    status: int = 200
    retry_after: int | None = None  # answer 429 with this Retry-After once, then 200
    robots_disallow: bool = False
    gzip: bool = False
    chunked: bool = False
    hostile: str | None = None  # hostile site: the case this URL answers (replay/hostile.py)

    @property
    def host(self) -> str:
        """Host name the article is served from."""
        return urlsplit(self.url).hostname or ""

    @property
    def path(self) -> str:
        """Path the article is served at."""
        return urlsplit(self.url).path

    @property
    def day(self) -> date:
        """Publication day, as the per-day sitemaps group articles."""
        return self.published.date()

    @property
    def becomes_item(self) -> bool:
        """Whether a polite crawler that finds this URL should emit an item for it."""
        return self.status == 200 and not self.robots_disallow


def _article(entry: dict) -> Article:
    published = datetime.fromisoformat(entry["published"])
    file = entry.get("file")
    return Article(
        url=entry["url"],
        kind=entry.get("kind", "synthetic"),
        title=entry["title"],
        published=published,
        lastmod=datetime.fromisoformat(entry["lastmod"]) if entry.get("lastmod") else published,
        link=entry.get("link", entry["url"]),
        listed=frozenset(entry.get("listed", ALL_LISTINGS)),
        file=str(REPO_ROOT / file) if file else None,
        body=entry.get("body"),
        tags=tuple(entry.get("tags", ())),
        status=entry.get("status", 200),
        retry_after=entry.get("retry_after"),
        robots_disallow=entry.get("robots") == "disallow",
        gzip=entry.get("gzip", False),
        chunked=entry.get("chunked", False),
        hostile=entry.get("hostile"),
    )


def _host(name: str, entry: dict) -> Host:
    sets = {key: frozenset(entry.get(key, ())) for key in ("gzip", "chunked")}
    return Host(name=name, **{**entry, **sets, "hostile_sitemaps": tuple(entry.get("hostile_sitemaps", ()))})


def _apply_overrides(entries: dict[str, dict], overrides: Path) -> None:
    """Merge an overrides file into the manifest entries: changed fields of known URLs, or whole new articles.

    A ``file`` is relative to the overrides file; a new ``body`` or ``file`` replaces the page, whichever form the
    manifest used."""
    for entry in json.loads(overrides.read_text(encoding="utf-8")).get("articles", []):
        entry = dict(entry)
        if "file" in entry:
            entry["file"] = str((overrides.parent / entry["file"]).resolve())
        old = dict(entries.get(entry["url"], {}))
        if {"body", "file"} & entry.keys():
            old.pop("body", None)
            old.pop("file", None)
        entries[entry["url"]] = {**old, **entry}


class Site:
    """The fixture site: hosts and articles, queried by the addon and by the tests."""

    def __init__(self, hosts: dict[str, Host], articles: Iterable[Article]):
        self.hosts = hosts
        self.articles = {a.url: a for a in articles}

    @classmethod
    def load(cls, manifest: Path = MANIFEST, overrides: Path | None = None) -> Site:
        """Read the manifest and, if given and present, an overrides file (see replay/README.md)."""
        data = json.loads(manifest.read_text(encoding="utf-8"))
        hosts = {name: _host(name, entry) for name, entry in data["hosts"].items()}
        entries = {e["url"]: e for e in data["articles"]}
        if overrides is not None and overrides.is_file():
            _apply_overrides(entries, overrides)
        return cls(hosts, map(_article, entries.values()))

    def edition_hosts(self, editions: Iterable[str]) -> set[str]:
        """Every host name of these editions (current, historical and image CDNs)."""
        wanted = set(editions)
        return {h.name for h in self.hosts.values() if h.edition in wanted}

    def listed(self, host: str, listing: str) -> list[Article]:
        """Articles of ``host`` that one listing (feed, widget, home, sitemap) shows, newest change first."""
        found = [a for a in self.articles.values() if a.host == host and listing in a.listed]
        return sorted(found, key=lambda a: (a.lastmod, a.url), reverse=True)

    def expected_articles(
        self,
        editions: Iterable[str] = ("en",),
        mode: str = "latest",
        since: date | None = None,
        until: date | None = None,
    ) -> set[str]:
        """Final URLs that should become items: ``latest`` (feed, widget, home of the discovery hosts) or
        ``backfill`` (per-day sitemaps of every host of the editions, ``since``..``until`` inclusive)."""
        hosts = self.edition_hosts(editions)
        if mode == "latest":
            found = {a for a in self.articles.values() if a.listed & LATEST_LISTINGS and self.hosts[a.host].discovery}
        elif mode == "backfill":
            found = {
                a
                for a in self.articles.values()
                if "sitemap" in a.listed and (since is None or a.day >= since) and (until is None or a.day <= until)
            }
        else:
            raise ValueError(f"unknown mode {mode!r}: latest or backfill")
        return {a.url for a in found if a.host in hosts and a.becomes_item}

    def robots_disallowed(self) -> set[str]:
        """Listed article URLs that robots.txt disallows."""
        return {a.url for a in self.articles.values() if a.robots_disallow}

    def not_found_urls(self) -> set[str]:
        """Listed article URLs that answer 404."""
        return {a.url for a in self.articles.values() if a.status == 404}

    def retry_after_urls(self) -> dict[str, int]:
        """URLs answering 429 once, with their Retry-After in seconds."""
        return {a.url: a.retry_after for a in self.articles.values() if a.retry_after}

    def redirects(self) -> dict[str, str]:
        """Listed URLs that answer a 301, mapped to where they lead."""
        return {a.link: a.url for a in self.articles.values() if a.link != a.url}

    def non_article_urls(self) -> set[str]:
        """Pages linked from the home pages that are not articles (tag pages)."""
        return {f"https://{h.name}/{tag}/" for h in self.hosts.values() for tag in h.tags}

    def discovery_urls(self, edition: str) -> dict[str, str]:
        """The discovery entry points of an edition's current host: feed, widget, home, robots, sitemap index."""
        host = next(h.name for h in self.hosts.values() if h.edition == edition and h.discovery)
        return {
            "home": f"https://{host}/",
            "feed": f"https://{host}/export/rss2/archive/index.xml",
            "widget": f"https://{host}/services/widget/lenta/",
            "robots": f"https://{host}/robots.txt",
            "sitemap_index": f"https://{host}/sitemap_index.xml",
        }

    def missing_files(self) -> list[str]:
        """Page files the manifest names that do not exist (the replay answers 500 for them)."""
        return [a.file for a in self.articles.values() if a.file and not Path(a.file).is_file()]
