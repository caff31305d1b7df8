"""``ARCHIVE_PAGE_IMAGES``: an article's pictures fetched after it and archived as page requisites (replay)."""

from __future__ import annotations

from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

pytestmark = pytest.mark.e2e
SEED = "https://sputnikglobe.com/20211228/russia-considers-mali-govt-as-legitimate-cooperation-as-positive-diplomat-says-1091867654.html"
IMG = "https://cdnn1.img.sputniknews.com/img/07e5/"
MAIN_PICTURE = IMG + "0b/13/1090842825_0:321:3070:2048_1920x0_80_0_0_10d99d14dc93b8d2751c36ba432b649d.jpg"
CARD_PICTURE = IMG + "0c/1b/1091846569_0:0:3072:1728_600x0_80_0_0_reconstructed.jpg"


def records_in(warc_dir: Path) -> dict[str, tuple[str, str, bytes]]:
    """Target URI -> (record type, HTTP Content-Type, payload) of every response and revisit under ``warc_dir``."""
    found = {}
    for path in warc_dir.rglob("*.warc.gz"):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type in ("response", "revisit"):
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    content_type = record.http_headers.get_header("Content-Type")
                    found[uri] = (record.rec_type, content_type, record.content_stream().read())
    return found


def test_the_seed_pages_pictures_are_fetched_once_and_archived(crawl):
    result = crawl(f"urls={SEED},{SEED.replace('sputnikglobe', 'sputniknews')}", ARCHIVE_PAGE_IMAGES="True")
    assert result.returncode == 0, result.log[-3000:]
    [item] = result.items  # the old host redirects to the same article: one item
    assert item["mainImage"]["url"] == MAIN_PICTURE
    assert [r["image"]["url"] for r in item["related"] if r["image"]] == [CARD_PICTURE]
    cdn = [r["url"] for r in result.requests if r["kind"] == "image"]
    assert "https://cdnn1.img.sputniknews.com/robots.txt" in cdn  # the CDN's robots.txt is obeyed like any host's
    pictures = [url for url in cdn if "/img/" in url]
    assert sorted(pictures) == sorted([MAIN_PICTURE, CARD_PICTURE])  # each once, nothing else of the CDN
    archived = records_in(crawl.directory / "warc")
    # the replay answers every picture with the same bytes: the first is a response, the second a revisit of it
    assert sorted(archived[url][0] for url in (MAIN_PICTURE, CARD_PICTURE)) == ["response", "revisit"]
    for url in (MAIN_PICTURE, CARD_PICTURE):
        assert archived[url][1] == "image/jpeg", url
    first = next(url for url in (MAIN_PICTURE, CARD_PICTURE) if archived[url][0] == "response")
    assert archived[first][2].startswith(b"\xff\xd8")  # the JPEG itself
    assert "'newsvault/page_images/requested': 2" in result.log
    assert "'newsvault/page_images/archived': 2" in result.log
    assert archived[SEED][0] == "response"  # the article's own record is still there


def test_pictures_are_left_alone_by_default(crawl):
    result = crawl(f"urls={SEED}")
    assert result.returncode == 0, result.log[-3000:]
    assert len(result.items) == 1
    assert not [r for r in result.requests if r["kind"] == "image"]
    assert "page_images" not in result.log
