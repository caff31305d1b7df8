"""Opt-in rendering with Debian's Chromium behind the replay: JS-built furniture, honest WARCs, clean timeouts."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import threading
import urllib.request
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.browser import BrowserExchange, response_head
from crawlers.rendering import RenderPolicy, proxy_from_env, trust_certificate
from replay.server import MITMDUMP, ReplayServer
from tests.archive.conftest import warcio_check
from tests.e2e.conftest import Crawler
from tests.pywb import pywb_collection

CHROMIUM = Path("/usr/bin/chromium")
JS_URL = "https://sputnikglobe.com/20240316/rendered-page-test-1117360000.html"
HANG_URL = "https://sputnikglobe.com/20240316/never-finishes-loading-1117360001.html"
# The never-loading test page is a bare body: its fallback item has almost no fields, so coverage is not checked.
FAST_RUN = {
    "ITEMS_MIN_ITEMS": "0",
    "ITEMS_MAX_ERROR_RATE": "1",
    "NEWSVAULT_RENDER_TIMEOUT": "4",
    "SPIDERMON_FIELD_COVERAGE_RULES": "{}",
}


def hanging_server() -> int:
    """A loopback port that accepts connections and never answers (a subresource that never loads)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    threading.Thread(target=lambda: [held.append(listener.accept()[0]) for _ in iter(int, 1)], daemon=True).start()
    return listener.getsockname()[1]


class BrowserCrawler(Crawler):
    """The e2e crawler with a HOME whose NSS store trusts the replay CA, and loopback outside the proxy."""

    def __init__(self, replay: ReplayServer, directory: Path, home: Path):
        super().__init__(replay, directory)
        self.home = home

    def env(self) -> dict[str, str]:
        """The e2e environment, HOME replaced, ``no_proxy`` for loopback."""
        return {**super().env(), "HOME": str(self.home), "no_proxy": "127.0.0.1,localhost"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One rendered crawl (JS page and a never-loading page) and one plain crawl of the JS page."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing: `make system-deps` (apt-get install chromium) installs it")
    if not MITMDUMP.exists() or not shutil.which("certutil"):
        pytest.skip("replay proxy or certutil (libnss3-tools) missing: run `make install system-deps`")
    root = tmp_path_factory.mktemp("rendering")
    hang = f'<html><body><div class="article__body">x</div><img src="http://127.0.0.1:{hanging_server()}/n"></body>'
    articles = [
        {"url": JS_URL, "title": "Rendered", "published": "2024-03-16T09:00:00+00:00", "listed": []},
        {"url": HANG_URL, "title": "Hang", "published": "2024-03-16T09:00:00+00:00", "listed": [], "body": hang},
    ]
    articles[0]["body"] = (Path(__file__).with_name("js_page.html")).read_text(encoding="utf-8")
    (root / "overrides.json").write_text(json.dumps({"articles": articles}), encoding="utf-8")
    with ReplayServer(root / "replay", root / "overrides.json") as replay:
        trust_certificate(root / "home", root / "replay" / "mitmproxy" / "mitmproxy-ca-cert.pem", "replay")
        rendered = BrowserCrawler(replay, root / "rendered", root / "home")
        plain = BrowserCrawler(replay, root / "plain", root / "home")
        results = (
            rendered("mode=urls", f"urls={JS_URL},{HANG_URL}", "render=js", timeout=90, **FAST_RUN),
            plain("mode=urls", f"urls={JS_URL}", **FAST_RUN),
            root,
        )
        yield (*results, replay.requests())


def test_the_browser_asks_nothing_of_hosts_off_the_editions(runs):
    assert any(r["url"] == JS_URL for r in runs[3]), "the browser's traffic did not go through the proxy"
    off_site = sorted({r["host"] for r in runs[3] if not r["onsite"]})
    assert off_site == [], "Chromium phoned home through the proxy"


def stats_of(log: str) -> str:
    """The stats dump at the end of a crawl log."""
    return log[log.rfind("Dumping Scrapy stats") :]


def test_rendered_item_has_the_js_edition_list_and_newsfeed_unrendered_does_not(runs):
    rendered, plain, *_ = runs
    assert sorted(i["url"] for i in rendered.items) == sorted([JS_URL, HANG_URL]), (
        rendered.log
    )  # the second by fallback
    item = next(i for i in rendered.items if i["url"] == JS_URL)
    assert [e["country"] for e in item["languageEditions"]] == ["International", "Deutschland"]
    assert [e["code"] for e in item["languageEditions"]] == ["en", "de"]
    assert any(r["kind"] == "newsfeed" for r in item["related"])
    [unrendered] = plain.items
    assert unrendered["headline"] == item["headline"] == "Rendered Page Test Headline"
    assert unrendered["languageEditions"] == []
    assert not any(r["kind"] == "newsfeed" for r in unrendered["related"])
    assert "playwright" not in stats_of(plain.log)  # no browser started for the plain run


def test_never_loading_page_times_out_is_counted_and_the_crawl_ends(runs):
    rendered, *_ = runs
    stats = stats_of(rendered.log)
    assert "'newsvault/render/timeouts': 1" in stats, rendered.log
    assert "'newsvault/render/pages': 1" in stats
    assert rendered.returncode == 0, rendered.log[-3000:]


def test_a_page_the_browser_could_not_load_is_fetched_and_archived_without_it(runs):
    rendered, _, root, proxied = runs
    assert "'newsvault/render/fallbacks': 1" in stats_of(rendered.log), rendered.log
    assert f"Fetching {HANG_URL} without the browser instead" in rendered.log
    _, records = records_of(root)
    [(http, body)] = [
        (h, b) for t, w, h, b in records if t == "response" and w.get_header("WARC-Target-URI") == HANG_URL
    ]
    assert http.get_statuscode() == "200" and b'<div class="article__body">x</div>' in body
    assert not [r for r in records if r[0] == "resource" and HANG_URL in r[1].get_header("WARC-Target-URI")]
    assert len([r for r in proxied if r["url"] == HANG_URL]) == 2  # the browser's attempt, then the plain fetch
    [item] = [i for i in rendered.items if i["url"] == HANG_URL]
    assert item["archive"]["recordId"] == next(
        w.get_header("WARC-Record-ID")
        for t, w, _, _ in records
        if t == "response" and w.get_header("WARC-Target-URI") == HANG_URL
    )


def records_of(root: Path) -> tuple[list[Path], list]:
    """The rendered crawl's WARC files and (type, headers, content) of each record."""
    files = sorted((root / "rendered" / "warc").rglob("*.warc.gz"))
    records = []
    for path in files:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, no_record_parse=False):
                records.append(
                    (record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read())
                )
    return files, records


def test_warc_holds_browser_responses_and_a_typed_rendered_dom(runs):
    rendered, _, root, _ = runs
    files, records = records_of(root)
    for path in files:
        warcio_check(path)
    responses = {h.get_header("WARC-Target-URI"): (http, body, h) for t, h, http, body in records if t == "response"}
    _, document_body, document_headers = responses[JS_URL]
    assert b'<div class="modal__lang" id="modalLang"></div>' in document_body  # as served, before scripts ran
    assert "https://sputnikglobe.com/services/widget/lenta/" in responses  # the page's own XHR
    picture = "https://cdnn1.img.sputnikglobe.com/img/07e8/03/10/1117359999_0:0:1280:720_600x0_80_0_0_test.jpg"
    picture_http, picture_body, _ = responses[picture]  # the outlet's image CDN, another host than the page's
    assert picture_http.get_header("Content-Type") == "image/jpeg" and picture_body.startswith(b"\xff\xd8")
    widget_http = responses["https://sputnikglobe.com/services/widget/lenta/"][0]
    assert widget_http.get_header("Content-Encoding") is None  # decoded body: the header is masked
    for http, body, _ in responses.values():
        assert int(http.get_header("Content-Length")) == len(body)
    [(_, dom_headers, _, dom)] = [r for r in records if r[0] == "resource"]
    assert dom_headers.get_header("WARC-Target-URI") == f"urn:rendered:{JS_URL}"
    assert dom_headers.get_header("WARC-Refers-To") == document_headers.get_header("WARC-Record-ID")
    assert dom_headers.get_header("Content-Type").startswith("text/html")
    assert b"lang-select__item-country" in dom and b"lenta__item" in dom
    pointer = next(i for i in rendered.items if i["url"] == JS_URL)["archive"]
    assert pointer["recordId"] == document_headers.get_header("WARC-Record-ID")
    with open(files[0].parent / pointer["warcFilename"], "rb") as stream:
        stream.seek(pointer["offset"])
        assert f"WARC-Target-URI: {JS_URL}".encode() in gzip.decompress(stream.read(pointer["length"]))


@pytest.fixture(scope="module")
def pywb(runs, tmp_path_factory):
    """pywb serving the rendered crawl's WARCs on a free loopback port; yields the collection URL and the CDX lines."""
    files, _ = records_of(runs[2])
    with pywb_collection(tmp_path_factory.mktemp("pywb"), files) as base:
        cdx = urllib.request.urlopen(f"{base}/cdx?url={JS_URL}&output=json", timeout=10).read().decode()
        yield base, [json.loads(line) for line in cdx.splitlines()]


def fetch(url: str) -> str:
    """A page from pywb."""
    return urllib.request.urlopen(url, timeout=10).read().decode()


def test_pywb_indexes_the_document_and_replays_its_xhr(pywb):
    base, lines = pywb
    [document] = [line for line in lines if line.get("mime", "").startswith("text/html")]
    assert document["status"] == "200"
    widget = f"{base}/{document['timestamp']}mp_/https://sputnikglobe.com/services/widget/lenta/"
    assert "lenta__item" in fetch(widget)


def test_pywb_replays_the_rendered_document(pywb):
    base, lines = pywb
    [document] = [line for line in lines if line.get("mime", "").startswith("text/html")]
    page = fetch(f"{base}/{document['timestamp']}mp_/{JS_URL}")
    assert "Rendered Page Test Headline" in page and 'id="modalLang"></div>' in page  # the document as served


def test_proxy_comes_from_the_environment_with_credentials_and_bypass():
    env = {"http_proxy": "http://a:b%40c@proxy.local:3128", "no_proxy": "127.0.0.1,.internal"}
    assert proxy_from_env(env) == {
        "server": "http://proxy.local:3128",
        "username": "a",
        "password": "b@c",
        "bypass": "127.0.0.1,.internal",
    }
    assert proxy_from_env({"HTTPS_PROXY": "http://s:1", "http_proxy": "http://h:2"})["server"] == "http://s:1"
    assert proxy_from_env({}) is None


def test_policy_renders_only_the_listed_editions_and_page_types():
    from scrapy.settings import Settings

    policy = RenderPolicy.from_settings(Settings({"NEWSVAULT_RENDER_EDITIONS": ["de"]}))
    assert policy.meta("de", "article")["playwright"] is True
    assert policy.meta("en", "article") == {} and policy.meta("de", "home") == {}
    assert not RenderPolicy.from_settings(Settings({"NEWSVAULT_RENDER_EDITIONS": []})).enabled
    with pytest.raises(ValueError, match="unknown"):
        RenderPolicy.from_settings(Settings({"NEWSVAULT_RENDER_EDITIONS": ["*"], "NEWSVAULT_RENDER_PAGE_TYPES": ["x"]}))


def test_decoded_body_head_masks_encoding_and_length():
    exchange = BrowserExchange(
        "https://e.org/",
        "GET",
        [],
        b"",
        200,
        "OK",
        [(b"content-encoding", b"gzip"), (b"content-length", b"9"), (b"vary", b"Accept-Encoding")],
        b"hello",
        None,
        True,
    )
    assert response_head(exchange) == (
        b"HTTP/1.1 200 OK\r\nX-Crawler-content-encoding: gzip\r\nX-Crawler-content-length: 9\r\n"
        b"vary: Accept-Encoding\r\nContent-Length: 5\r\n\r\n"
    )
