"""Exactly once across a ``kill -9``: what to do with the articles a killed run held.

Before the feed exporter writes an article's line, the spider *holds* the article in the incremental state
(:meth:`crawlers.state.SqliteState.hold`, with the local files the feeds are writing); recording its outcome releases
it. A kill between the line and the record leaves it held. The next run, before anything else, *settles* each held
article from those files: its line is there, so it is recorded as done; or it is not, so it is released and
fetched again. Without this, such an article was emitted twice.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

from crawlers.state import SqliteState

logger = logging.getLogger(__name__)

CHUNK = 1 << 16


def feed_ids(path: Path) -> set[str]:
    """The ``id`` of every complete line of a JSONL feed (plain, or gzip cut short by a kill); none if it is gone."""
    try:
        return {orjson.loads(line)["id"] for line in complete_lines(path) if line.strip()}
    except FileNotFoundError:
        return set()


def complete_lines(path: Path) -> Iterator[bytes]:
    """The complete lines (without their newline) of a JSONL file, plain or gzip, cut short or not; read in chunks."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress if path.name.endswith((".gz", ".gz.open")) else None
    rest = b""
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            try:
                rest += inflate(chunk) if inflate else chunk
            except zlib.error:
                break
            *lines, rest = rest.split(b"\n")
            yield from lines


def _from_key(version: str | None) -> datetime | None:
    """The datetime of a stored version (``crawlers.state.version_key``'s text)."""
    return datetime.strptime(version, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if version else None


def settle(state: SqliteState) -> tuple[int, int]:
    """Record as done every held article whose line is in its feed files, release the others; (recorded, released)."""
    recorded = released = 0
    ids: dict[str, set[str]] = {}
    for key, url, version, feeds in state.held():
        if any(key in ids.setdefault(feed, feed_ids(Path(feed))) for feed in feeds):
            state.record(key, url, _from_key(version), emitted=True)
            recorded += 1
        else:
            state.release(key)
            released += 1
    if recorded or released:
        message = "state: %d article(s) held by a killed run: %d with their line written (recorded), %d without"
        logger.info(message, recorded + released, recorded, released)
    return recorded, released
