"""What the replay answers for one URL: routing plus the generated pages (robots.txt, RSS, sitemaps, widget, home,
tag pages, SYNTHETIC articles). Stdlib only, so the mitmproxy addon stays a thin shell around :func:`respond`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlsplit

from replay import hostile
from replay.fixture_site import SITE_DIR, Article, Host, Site

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
FEED_PATH = "/export/rss2/archive/index.xml"
WIDGET_PATH = "/services/widget/lenta/"
ROBOTS_RULES = ("/search/", "/cms/", "/*-print.html$")


@dataclass
class Reply:
    """One answer: status, headers, body, and how to send it (gzip when accepted, chunked)."""

    status: int
    body: bytes
    content_type: str = HTML
    kind: str = "page"  # article, feed, sitemap, sitemap_index, widget, home, tag, robots, image, redirect, ...
    onsite: bool = True
    gzip: bool = False
    chunked: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def _template(name: str) -> Template:
    return Template((SITE_DIR / "templates" / name).read_text(encoding="utf-8"))


def _text(status: int, message: str, kind: str, onsite: bool = True) -> Reply:
    return Reply(status, message.encode(), "text/plain; charset=utf-8", kind, onsite)


def _href(article: Article, host: str) -> str:
    """The link as the site writes it: relative on its own host, absolute elsewhere."""
    parts = urlsplit(article.link)
    return parts.path if parts.hostname == host else article.link


def robots(site: Site, host: Host) -> str:
    """robots.txt: the usual rules, every article marked ``robots: disallow``, and the sitemap index."""
    disallowed = sorted(a.path for a in site.articles.values() if a.host == host.name and a.robots_disallow)
    rules = [*ROBOTS_RULES, *disallowed]
    lines = ["User-agent: *", *(f"Disallow: {r}" for r in rules), "", f"Sitemap: https://{host.name}/sitemap_index.xml"]
    return "\n".join(lines) + "\n"


def rss(site: Site, host: Host) -> str:
    """The RSS archive feed; each item's ``pubDate`` is the article's last modification."""
    items = "".join(
        f"<item><title>{escape(a.title)}</title><link>{escape(a.link)}</link><guid>{escape(a.link)}</guid>"
        f"<pubDate>{format_datetime(a.lastmod)}</pubDate>"
        + "".join(f"<category>{escape(t)}</category>" for t in a.tags)
        + "</item>"
        for a in site.listed(host.name, "feed")
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(host.site_name)}</title><link>https://{host.name}/</link>"
        f"<description>{escape(host.site_name)}: all news</description>"
        f"<language>{host.locale.split('_')[0]}</language>{items}</channel></rss>\n"
    )


def sitemap_index(site: Site, host: Host) -> str:
    """One ``sitemap_article.xml`` per day that has articles."""
    days = sorted({a.day for a in site.listed(host.name, "sitemap")}, reverse=True)
    entries = "".join(
        f"<sitemap><loc>https://{host.name}/sitemap_article.xml?date_start={d:%Y%m%d}&amp;date_end={d:%Y%m%d}</loc>"
        "</sitemap>"
        for d in days
    )
    hostile_locs = (f"https://{host.name}/hostile/sitemap-{case}.xml" for case in host.hostile_sitemaps)
    entries += "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in hostile_locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{_SITEMAP_NS}">{entries}</sitemapindex>\n'


def sitemap(site: Site, host: Host, start: date, end: date) -> str:
    """A standard urlset of the articles published from ``start`` to ``end`` (inclusive)."""
    entries = "".join(
        f"<url><loc>{escape(a.link)}</loc><lastmod>{a.lastmod.isoformat()}</lastmod></url>"
        for a in site.listed(host.name, "sitemap")
        if start <= a.day <= end
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{_SITEMAP_NS}">{entries}</urlset>\n'


_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def widget(site: Site, host: Host) -> str:
    """The newsfeed widget with the real ``div.lenta`` markup."""
    listed = site.listed(host.name, "widget")
    items = "".join(
        f'<div class="lenta__item "><a href="{escape(_href(a, host.name))}" class="lenta__item-size">'
        '<span class="lenta__item-decription">'
        f'<span class="lenta__item-date " data-unixtime="{int(a.lastmod.timestamp())}">'
        f'{a.lastmod:%H:%M}</span><span class="lenta__item-text ">{escape(a.title)}</span></span></a></div>'
        for a in listed
    )
    maxtime = max((int(a.lastmod.timestamp()) for a in listed), default=0)
    return (
        f'<div class="lenta" id="widgetLenta" data-maxtime="{maxtime}"><div class="lenta__content">'
        f'<div class="container lenta__container"><div class="lenta__wrapper"><div class="lenta__list">{items}'
        "</div></div></div></div></div>"
    )


def home(site: Site, host: Host, title: str) -> str:
    """A home (or tag) page: article cards, links to the tag pages and the newsfeed widget."""
    cards = "".join(
        f'<div class="list__item"><a href="{escape(_href(a, host.name))}" class="list__title">'
        f"{escape(a.title)}</a></div>"
        for a in site.listed(host.name, "home")
    )
    tag_links = "".join(f'<a href="/{path}/" class="tag__text">{escape(name)}</a>' for path, name in host.tags.items())
    return _template("home.html").substitute(
        lang=host.locale.split("_")[0],
        site_name=escape(title),
        host=host.name,
        cards=cards,
        tag_links=tag_links,
        widget=widget(site, host),
    )


def synthetic_article(article: Article, host: Host) -> str:
    """A SYNTHETIC current-layout article page (labelled as such in an HTML comment)."""
    site_name, day = host.site_name, article.published
    lead = f"{article.title}: a synthetic article that newsvault's offline replay serves on {host.name}."
    paragraphs = [
        lead,
        f"It was published on {day:%d.%m.%Y} at {day:%H:%M} and is listed under {', '.join(article.tags) or 'no tag'}.",
        "The replay generates it so that feeds, sitemaps and the newsfeed look like those of a real edition.",
    ]
    tags = [(f"category_{re.sub(r'[^a-z0-9]+', '', t.lower())}", t) for t in article.tags]
    return _template("article.html").substitute(
        lang=host.locale.split("_")[0],
        locale=host.locale,
        host=host.name,
        site_name=escape(site_name),
        url=escape(article.url),
        title=escape(article.title),
        lead=escape(lead),
        keywords=escape(", ".join(t.lower() for t in article.tags)),
        tag_names=escape(", ".join(article.tags)),
        article_id=re.search(r"(\d+)\.html$", article.url).group(1),
        p_ts=int(day.timestamp()),
        day_dotted=f"{day:%d.%m.%Y}",
        day_path=f"{day:%Y%m%d}",
        time_visible=f"{day:%H:%M %d.%m.%Y}",
        published_compact=f"{day:%Y%m%dT%H%M%z}",
        modified_compact=f"{article.lastmod:%Y%m%dT%H%M%z}",
        published_micro=f"{day:%Y-%m-%dT%H:%M%z}",
        modified_micro=f"{article.lastmod:%Y-%m-%dT%H:%M%z}",
        article_tags="\n".join(f'<meta property="article:tag" content="{escape(t)}">' for t in article.tags),
        sections="".join(f'<div itemprop="articleSection">{escape(t.lower())}</div>' for t in article.tags),
        body_text=escape(" ".join(paragraphs)),
        blocks="".join(
            f'<div class="article__block" data-type="text"><div class="article__text">{escape(p)}</div></div>'
            for p in paragraphs
        ),
        tag_items="".join(
            f'<li class="tag " data-sid="{sid}" data-type="tag"><a href="/{sid}/" class="tag__text" '
            f'title="{escape(name)}">{escape(name)}</a></li>'
            for sid, name in tags
        ),
    )


def _article_reply(article: Article, host: Host, answered_429: set[str]) -> Reply:
    if article.retry_after and article.url not in answered_429:
        answered_429.add(article.url)
        reply = _text(429, "Too Many Requests", "article")
        reply.headers["Retry-After"] = str(article.retry_after)
        return reply
    if article.hostile:
        status, content_type, body, headers = hostile.article_body(
            article.hostile, article, synthetic_article(article, host)
        )
        return Reply(status, body, content_type, "article", headers=headers)
    if article.status != 200:
        return Reply(article.status, b"<html><body><h1>Not found</h1></body></html>", kind="article")
    if article.body is not None:
        body = article.body.encode("utf-8")
    elif article.file:
        if not Path(article.file).is_file():
            return _text(500, f"replay: page file missing: {article.file}", "article")
        body = Path(article.file).read_bytes()
    else:
        body = synthetic_article(article, host).encode("utf-8")
    reply = Reply(200, body, kind="article", gzip=article.gzip, chunked=article.chunked)
    reply.headers["Last-Modified"] = format_datetime(article.lastmod.astimezone(UTC), usegmt=True)
    return reply


def _day(query: dict[str, list[str]], name: str) -> date | None:
    try:
        return datetime.strptime(query[name][0], "%Y%m%d").date()
    except (KeyError, ValueError):
        return None


def _generated(site: Site, host: Host, path: str, query: dict[str, list[str]]) -> Reply | None:
    """The generated pages of a host, or None when ``path`` is not one of them."""
    if path == "/robots.txt":
        return Reply(200, robots(site, host).encode(), "text/plain; charset=utf-8", "robots")
    if path.startswith("/hostile/sitemap-") and path.endswith(".xml"):
        case = path.removeprefix("/hostile/sitemap-").removesuffix(".xml")
        listed = sorted(a.url for a in site.articles.values() if a.hostile == "sitemap-listed" and f"-{case}-" in a.url)
        content_type, body, headers = hostile.sitemap_body(case, host, [site.articles[url] for url in listed])
        return Reply(200, body, content_type, "sitemap", headers=headers)
    if path == "/sitemap_index.xml":
        kind, text, ctype = "sitemap_index", sitemap_index(site, host), XML
    elif path == "/sitemap_article.xml":
        start, end = _day(query, "date_start"), _day(query, "date_end")
        if start is None or end is None:
            return _text(400, "date_start and date_end (YYYYMMDD) are required", "sitemap")
        kind, text, ctype = "sitemap", sitemap(site, host, start, end), XML
    elif host.discovery and path == FEED_PATH:
        kind, text, ctype = "feed", rss(site, host), "application/rss+xml; charset=utf-8"
    elif host.discovery and path == WIDGET_PATH:
        kind, text, ctype = "widget", widget(site, host), HTML
    elif host.discovery and path == "/":
        kind, text, ctype = "home", home(site, host, host.site_name), HTML
    elif path.strip("/") in host.tags and path.endswith("/"):
        kind, text, ctype = "tag", home(site, host, f"{host.tags[path.strip('/')]} - {host.site_name}"), HTML
    else:
        return None
    return Reply(200, text.encode("utf-8"), ctype, kind, gzip=kind in host.gzip, chunked=kind in host.chunked)


def respond(site: Site, url: str, answered_429: set[str]) -> Reply:
    """The replay's answer for ``url``; ``answered_429`` remembers which URLs already got their one 429."""
    parts = urlsplit(url)
    host = site.hosts.get((parts.hostname or "").lower())
    path = parts.path or "/"
    if host is None:
        return _text(403, f"replay: off-site host {parts.hostname!r} is not part of the fixture site", "offsite", False)
    if host.redirect_to:
        reply = Reply(301, b"", kind="redirect")
        query = f"?{parts.query}" if parts.query else ""
        reply.headers["Location"] = f"https://{host.redirect_to}{path}{query}"
        return reply
    if host.images:
        if path.startswith("/img/"):
            return Reply(200, (SITE_DIR / host.images).read_bytes(), "image/jpeg", "image")
        return _text(404, "not found", "image")
    hop = hostile.route(path, parts.query, host) if path.startswith("/hostile/") else None
    if hop is not None:
        return Reply(hop[0], b"", kind="redirect", headers=hop[1])
    generated = _generated(site, host, path, parse_qs(parts.query))
    if generated is not None:
        return generated
    article = site.articles.get(f"https://{host.name}{path}")
    if article is not None:
        return _article_reply(article, host, answered_429)
    return Reply(404, b"<html><body><h1>Not found</h1></body></html>", kind="missing")
