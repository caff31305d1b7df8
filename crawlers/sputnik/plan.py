"""The spider's ``-a`` arguments, validated into a :class:`CrawlPlan` before any request is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from crawlers.errors import InputError
from crawlers.sputnik import editions as edition_table
from crawlers.sputnik.editions import SputnikEdition, UnknownEdition

MODES = ("latest", "backfill", "urls")


class SpiderArgumentError(InputError):
    """A ``-a`` argument of the spider is missing, malformed or contradicts another."""


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise SpiderArgumentError(f"-a {name}={value!r}: expected a date as YYYY-MM-DD") from None


def _explicit_url(value: str) -> str:
    value = value.strip()
    if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname:
        raise SpiderArgumentError(f"not an absolute http(s) URL: {value!r}")
    return value


def _read_urls(urls_arg: str | None, urls_file: str | None) -> list[str]:
    found = [u for u in (urls_arg or "").split(",") if u.strip()]
    if urls_file:
        try:
            lines = Path(urls_file).read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise SpiderArgumentError(f"-a urls_file={urls_file!r}: cannot read it ({e.strerror})") from None
        found += [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return [_explicit_url(u) for u in found]


def _editions_for(spec: str | None, explicit: list[str]) -> tuple[SputnikEdition, ...]:
    """The editions named by ``spec``; by default those of the explicit URLs, else the international one."""
    if spec is None and explicit:
        found = {}
        for url in explicit:
            edition = edition_table.by_host(urlsplit(url).hostname or "")
            if edition is None:
                raise SpiderArgumentError(f"{url} is not on a known Sputnik host; see crawlers/sputnik/editions.py")
            found[edition.code] = edition
        return tuple(found.values())
    try:
        selected = tuple(edition_table.select(spec))
    except UnknownEdition as e:
        raise SpiderArgumentError(f"-a editions: {e}") from None
    for url in explicit:
        if edition_table.by_host(urlsplit(url).hostname or "") not in selected:
            codes = ",".join(e.code for e in selected)
            raise SpiderArgumentError(f"{url} is not on a host of the selected editions ({codes})")
    return selected


@dataclass(frozen=True)
class CrawlPlan:
    """What one run crawls, validated from the spider arguments."""

    editions: tuple[SputnikEdition, ...]
    mode: str = "latest"
    days: tuple[date, ...] = ()
    urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    refresh: bool = False


def plan_from_args(
    editions: str | None = None,
    mode: str | None = None,
    since: str | None = None,
    until: str | None = None,
    urls: str | None = None,
    urls_file: str | None = None,
    feed: str | None = None,
    sitemap: str | None = None,
    refresh: str | None = None,
    today: date | None = None,
) -> CrawlPlan:
    """Validate the ``-a`` arguments into a :class:`CrawlPlan`; :class:`SpiderArgumentError` says what is wrong."""
    listed = _read_urls(urls, urls_file)
    mode = (mode or ("urls" if listed else "latest")).strip().lower()
    if mode not in MODES:
        raise SpiderArgumentError(f"-a mode={mode!r}: expected one of {', '.join(MODES)}")
    if refresh not in (None, "all"):
        raise SpiderArgumentError(f"-a refresh={refresh!r}: the only value is 'all'")
    if mode == "urls" and not listed:
        raise SpiderArgumentError("-a mode=urls needs -a urls=URL,URL or -a urls_file=PATH")
    if mode != "urls" and (urls or urls_file):
        raise SpiderArgumentError(f"-a urls / urls_file only go with mode=urls, not mode={mode}")
    if mode != "backfill" and (since or until):
        raise SpiderArgumentError("-a since / until only go with mode=backfill")
    if (feed or sitemap) and mode != "latest":
        raise SpiderArgumentError("-a feed / sitemap seed a run on their own: do not combine them with mode=" + mode)
    days: tuple[date, ...] = ()
    if mode == "backfill":
        if not since:
            raise SpiderArgumentError("-a mode=backfill needs -a since=YYYY-MM-DD (and optionally until=YYYY-MM-DD)")
        first = _day("since", since)
        last = _day("until", until) if until else (today or datetime.now(UTC).date())
        if first > last:
            raise SpiderArgumentError(f"-a since={first} is after until={last}")
        days = tuple(first + timedelta(days=n) for n in range((last - first).days + 1))
    feeds = tuple(_explicit_url(feed) for feed in [feed] if feed)
    sitemaps = tuple(_explicit_url(s) for s in [sitemap] if s)
    chosen = _editions_for(editions, [*listed, *feeds, *sitemaps])
    return CrawlPlan(chosen, mode, days, tuple(listed), feeds, sitemaps, refresh == "all")
