"""The benchmark site: N SYNTHETIC current-layout Sputnik articles (~100 KB each) served by nginx on loopback.

Pages come from the replay's article template (``replay.pages.synthetic_article``) with varied German text, a
sidebar of article cards and an inline script, so that size and element count resemble the real snanews.de page.
Deterministic: the same ``--pages`` and ``--seed`` give byte-identical files.

Article URLs follow the real pattern ``/{YYYYMMDD}/{slug}-{id}.html`` on ``snanews.de`` (edition ``de``). That host
cannot resolve here, so crawlers reach nginx as a plain HTTP proxy: with ``http_proxy=http://127.0.0.1:PORT`` Scrapy
sends ``GET http://snanews.de/... HTTP/1.1`` to nginx, which serves the file. The spider sees the real host name, so
its URL patterns and edition host allowlist apply unchanged. wget crawls ``http://127.0.0.1:PORT/index.html``
directly (same files, same paths).

Article ``n`` has id ``11000nnnnn``. Ids ``1100cnnnnn`` with ``c`` in 1-9 are copies: nginx serves file ``n`` with
every occurrence of the original id replaced by the requested one (``sub_filter``), so up to 10x N distinct
articles come from N files (the memory benchmark's 50,000 pages from 5,000).

Run ``.venv/bin/python bench/site.py FOLDER [--pages N]`` to generate and serve in the foreground.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replay.fixture_site import Article, Host
from replay.pages import synthetic_article
from replay.server import free_port

HOST = Host(name="snanews.de", edition="de", site_name="SNA", locale="de_DE", discovery=True)
FIRST_ID = 1_100_000_000
MAX_COPIES = 10
NGINX = "/usr/sbin/nginx"
_TEXT = (
    "Regierung Bundestag Haushalt Energie Windpark Ostsee Wirtschaft Industrie Handel Export Gas Strom Preis Markt",
    "Verhandlung Minister Kanzler Partei Opposition Wahl Umfrage Bürger Stadt Land Region Hafen Bahn Verkehr Schule",
    "Forschung Universität Klima Landwirtschaft Fischerei Zukunft Vergangenheit Bericht Experte Analyse Zahl Prozent",
    "Jahr Monat Woche Tag erklärte sagte betonte kritisierte forderte plante kündigte an wurde ist hat sollen können",
    "neue große wichtige öffentliche deutsche europäische internationale mehr weniger schnell langsam heute gestern",
    "und oder aber weil dass wenn der die das den dem des ein eine einen mit von zu auf für über nach bei aus",
)
WORDS = tuple(word for line in _TEXT for word in line.split())
TAGS = ("Wirtschaft", "Politik", "Gesellschaft", "Energie", "Wissenschaft", "Sport", "Kultur", "Umwelt")


@dataclass(frozen=True)
class BenchSite:
    """A generated site: its folder, article URLs (on ``snanews.de``) and their paths."""

    root: Path
    paths: tuple[str, ...]

    def urls(self, copies: int = 1, host: str = HOST.name) -> list[str]:
        """``copies`` x N distinct article URLs (copy 0 is the generated page itself)."""
        if not 1 <= copies <= MAX_COPIES:
            raise ValueError(f"copies must be 1..{MAX_COPIES}")
        return [f"http://{host}{_copy_path(p, c)}" for c in range(copies) for p in self.paths]


def _copy_path(path: str, copy: int) -> str:
    return path.replace("-11000", f"-1100{copy}", 1) if copy else path


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 22))
    return " ".join(words).capitalize() + "."


def _chrome(rng: random.Random, paths: list[str], titles: list[str]) -> str:
    """Sidebar cards, navigation and an inline script: the non-article bulk of a real page."""
    cards = "".join(
        f'<div class="list__item"><a href="{p}" class="list__title">{escape(t)}</a>'
        f'<span class="list__date" data-unixtime="{1700000000 + i}">12:{i % 60:02d}</span></div>'
        for i, (p, t) in enumerate(zip(paths, titles, strict=True))
    )
    nav = "".join(f'<li class="nav__item"><a href="/{t.lower()}/" class="nav__link">{t}</a></li>' for t in TAGS * 10)
    script = "var analytics=" + repr([rng.random() for _ in range(2000)]) + ";"
    return (
        f'<nav class="nav"><ul class="nav__list">{nav}</ul></nav><aside class="sidebar">{cards}</aside>'
        f"<script>{script}</script>"
    )


def article_page(n: int, rng: random.Random, neighbours: list[tuple[str, str]]) -> tuple[str, str]:
    """(path, HTML) of article ``n``: the replay template with varied paragraphs, cards and a script."""
    published = datetime(2024, 3, 1, 6, tzinfo=UTC) + timedelta(minutes=13 * n)
    title = " ".join(rng.choices(WORDS, k=rng.randint(5, 9))).capitalize()
    slug = "-".join(w.lower() for w in title.split()[:5]).encode("ascii", "ignore").decode()
    url = f"https://{HOST.name}/{published:%Y%m%d}/{slug}-{FIRST_ID + n}.html"
    tags = tuple(rng.sample(TAGS, 2))
    article = Article(url, "synthetic", title, published, lastmod=published, link=url, tags=tags)
    html = synthetic_article(article, HOST)
    paragraphs = "".join(
        f'<div class="article__block" data-type="text"><div class="article__text">'
        f"{escape(' '.join(_sentence(rng) for _ in range(4)))}</div></div>"
        for _ in range(30)
    )
    html = html.replace('<div class="article__body">', '<div class="article__body">' + paragraphs, 1)
    chrome = _chrome(rng, [p for p, _ in neighbours], [t for _, t in neighbours])
    return url.removeprefix(f"https://{HOST.name}"), html.replace("</body>", chrome + "</body>", 1)


def generate(root: Path, pages: int, seed: int = 1) -> BenchSite:
    """Write ``pages`` articles (files ``a/nnnnn.html``), ``index.html``, ``sitemap.xml`` and ``robots.txt``."""
    if pages > 100_000:
        raise ValueError("at most 100,000 pages (ids carry five digits)")
    rng = random.Random(seed)
    (root / "a").mkdir(parents=True, exist_ok=True)
    paths: list[str] = []
    titles: list[str] = []
    for n in range(pages):
        recent = list(zip(paths[-150:], titles[-150:], strict=True))
        path, html = article_page(n, rng, recent)
        (root / "a" / f"{n:05d}.html").write_text(html, encoding="utf-8")
        paths.append(path)
        titles.append(html.split("<title>", 1)[1].split(" - ", 1)[0])
    links = "".join(f'<a href="{p}">{p}</a>\n' for p in paths)
    (root / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n", encoding="utf-8")
    entries = "".join(f"<url><loc>https://{HOST.name}{p}</loc></url>" for p in paths)
    sitemap = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n'
    (root / "sitemap.xml").write_text(sitemap, encoding="utf-8")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /search/\n", encoding="utf-8")
    return BenchSite(root, tuple(paths))


NGINX_CONF = """\
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {work}/tmp-body;
    proxy_temp_path {work}/tmp-proxy;
    fastcgi_temp_path {work}/tmp-fastcgi;
    uwsgi_temp_path {work}/tmp-uwsgi;
    scgi_temp_path {work}/tmp-scgi;
    types {{ text/html html; text/plain txt; application/xml xml; }}
    server {{
        listen 127.0.0.1:{port} default_server;
        server_name _;
        root {root};
        location ~ "^/\\d{{8}}/[^/]*-11000(?<n>\\d{{5}})\\.html$" {{
            default_type "text/html; charset=utf-8";
            try_files /a/$n.html =404;
        }}
        location ~ "^/\\d{{8}}/[^/]*-(?<id>1100[1-9](?<n>\\d{{5}}))\\.html$" {{
            default_type "text/html; charset=utf-8";
            sub_filter_once off;
            sub_filter "11000$n" "$id";
            try_files /a/$n.html =404;
        }}
    }}
}}
"""


class Nginx:
    """nginx serving a :class:`BenchSite` on 127.0.0.1 with a private config (``daemon off``) in ``work``."""

    def __init__(self, site: BenchSite, work: Path, port: int | None = None):
        self.site, self.work, self.port = site, work, port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def proxy(self) -> str:
        """The ``http_proxy`` value that routes ``http://snanews.de/...`` to this server."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """``os.environ`` with ``http_proxy`` set to this server and no ``no_proxy``."""
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "https_proxy")}
        return {**env, "http_proxy": self.proxy, "HTTP_PROXY": self.proxy}

    def __enter__(self) -> Nginx:
        if not Path(NGINX).exists():
            raise SystemExit(f"{NGINX} not found: apt-get install -y nginx-light")
        self.work.mkdir(parents=True, exist_ok=True)
        for folder in (self.site.root, *self.site.root.parents[:2]):
            folder.chmod(folder.stat().st_mode | 0o055)  # nginx workers run as nobody
        conf = self.work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=self.work, port=self.port, root=self.site.root), encoding="utf-8")
        command = [NGINX, "-p", str(self.work), "-e", str(self.work / "error.log"), "-c", str(conf)]
        self.process = subprocess.Popen([*command, "-g", "daemon off;"])
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise SystemExit(f"nginx exited: see {self.work / 'error.log'}") from None
                time.sleep(0.05)
        raise SystemExit("nginx did not start listening within 5 s")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def main() -> None:
    """Generate the site into FOLDER and serve it until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    site = generate(args.folder.resolve() / "site", args.pages, args.seed)
    with Nginx(site, args.folder.resolve() / "nginx", args.port) as server:
        print(f"{args.pages} pages; crawl with http_proxy={server.proxy} e.g. {site.urls()[0]}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.process.wait()


if __name__ == "__main__":
    main()
