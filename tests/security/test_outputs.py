"""One real crawl with credentials around it: none of them reaches a log, manifest, item, state or WARC record;
and every file the crawl writes stays in its folder whatever the URLs say."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from archive.writer import safe_hostname
from replay.server import MITMDUMP, ReplayServer
from settings import base
from tests.e2e.conftest import Crawler

pytestmark = pytest.mark.e2e
ACCESS_KEY = "AKIAZZTESTKEY7QX3NVA"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY"
PROXY_USER, PROXY_PASSWORD = "crawlerproxy", "Pr0xyPassw0rdZ9"
PROXY_AUTH = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()  # Proxy-Authorization: Basic ...
SECRETS = [SECRET_KEY, ACCESS_KEY, PROXY_PASSWORD]
TRAVERSAL = [
    "https://sputnikglobe.com/20240312/..%2F..%2F..%2F..%2Ftmp%2Fescaped-1117310982.html",
    "https://sputnikglobe.com/20240312/%2e%2e/%2e%2e/escaped-1117310983.html",
]


def readable(path: Path) -> bytes:
    """A file's bytes, gzip members inflated (WARC, .jsonl.gz), so a search sees what a reader would."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError):
            return data
    return data


@pytest.fixture(scope="module")
def crawl_with_credentials(tmp_path_factory):
    if not MITMDUMP.exists():
        pytest.skip(f"{MITMDUMP} missing: run `make install`")
    work = tmp_path_factory.mktemp("credentials")
    with ReplayServer(work / "replay") as replay:
        crawler = Crawler(replay, work / "run")
        env = crawler.env()
        proxy = replay.proxy_url.replace("http://", f"http://{PROXY_USER}:{PROXY_PASSWORD}@")
        env.update({name: proxy for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")})
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        crawler.env = lambda: env
        urls = ["https://sputnikglobe.com/20240312/new-rail-corridor-links-caspian-ports-1117310982.html", *TRAVERSAL]
        late = {**base.EXTENSIONS, "tests.security.late_logger.LateSecretLogger": 999}  # logs the proxy URL at close
        result = crawler(
            "urls=" + ",".join(urls),
            EXTENSIONS=json.dumps(late),
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            NEWSVAULT_ALLOW_PRIVATE_TARGETS="False",
            ITEMS_MIN_ITEMS="0",
        )
    return work, result


def leaks(crawl_with_credentials, secrets: list[str]) -> list[tuple[str, str]]:
    """(file name, secret) for every output file holding one of ``secrets``."""
    work, _ = crawl_with_credentials
    outputs = [p for p in (work / "run").rglob("*") if p.is_file()]
    assert any(p.name.endswith(".warc.gz") for p in outputs) and any(p.name.endswith("manifest.json") for p in outputs)
    assert any(p.name.endswith(".jsonl") for p in outputs) and any(p.name.endswith(".cdxj") for p in outputs)
    return [(p.name, s) for p in outputs for s in secrets if s.encode() in readable(p)]


def test_credentials_never_reach_items_manifest_state_or_warc(crawl_with_credentials):
    assert crawl_with_credentials[1].items, crawl_with_credentials[1].log[-3000:]
    assert leaks(crawl_with_credentials, SECRETS) == []


def test_proxy_credentials_never_reach_the_log(crawl_with_credentials):
    log = crawl_with_credentials[1].log
    assert [s for s in (PROXY_PASSWORD, PROXY_AUTH) if s in log] == []
    # lines logged at the end, after Scrapy replaced its root log handler, are masked too (message and traceback)
    assert f"late line with the proxy: http://{PROXY_USER}:***@" in log
    assert f"late failure through http://{PROXY_USER}:***@" in log


def test_aws_keys_given_as_settings_never_reach_the_log(crawl_with_credentials):
    assert [s for s in (SECRET_KEY, ACCESS_KEY) if s in crawl_with_credentials[1].log] == []


def test_proxy_authorization_never_reaches_the_warc(crawl_with_credentials):
    assert leaks(crawl_with_credentials, [PROXY_AUTH]) == []


def test_archive_and_item_paths_stay_in_their_folder(crawl_with_credentials):
    work, _ = crawl_with_credentials
    run = (work / "run").resolve()
    written = [p.resolve() for p in (work / "run").rglob("*")]
    assert all(p.is_relative_to(run) for p in written)
    assert not list(work.parent.glob("**/escaped*")) and not Path("/tmp/escaped-1117310982.html").exists()
    warcs = [p for p in written if p.name.endswith(".warc.gz")]
    assert warcs and all(p.is_relative_to(run / "warc") for p in warcs)
    assert all("escaped" not in p.name and ".." not in p.name for p in written)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "a/../b", "..", "", "host\x00name"])
def test_hostname_parts_of_warc_names_cannot_traverse(name):
    part = safe_hostname(name or "..")
    assert part and "/" not in part and ".." not in part and "\x00" not in part
