"""Incremental crawl state: which articles were already handled, and at which version.

A *version* is the newest date known for an article: sitemap ``lastmod``, feed date, or the page's own
``dateModified``. An article is fetched again only when discovery reports a version newer than the stored one.
Records are written only once an outcome is final (item written, or page found not to be an article), so a crash
never marks an article done that was not delivered.

:class:`StateStore` is the interface; :class:`SqliteState` the default backend (one file, WAL journal, one
transaction per update: a ``kill -9`` loses at most the update in flight). A Redis backend for distributed crawls
can implement the same three methods.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


def version_key(value: datetime | None) -> str | None:
    """A comparable text form of a version: ISO 8601 in UTC with seconds (naive datetimes count as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Record:
    """What the state knows about one article."""

    key: str
    url: str
    version: str | None
    emitted: bool
    updated_at: str


class StateStore(Protocol):
    """The state backend interface (SQLite here; Redis later)."""

    def get(self, key: str) -> Record | None:
        """The record for ``key``, if any."""

    def record(self, key: str, url: str, version: datetime | None, *, emitted: bool) -> None:
        """Store the final outcome for ``key`` at ``version`` (never lowering a stored version)."""

    def close(self) -> None:
        """Release the backend."""


def needs_fetch(store: StateStore, key: str, version: datetime | None) -> bool:
    """True unless ``key`` is recorded at a version at least as new as ``version`` (None: any record suffices)."""
    rec = store.get(key)
    if rec is None:
        return True
    new = version_key(version)
    return new is not None and (rec.version is None or new > rec.version)


class SqliteState:
    """:class:`StateStore` in one SQLite file: WAL journal, autocommit, one transaction per update."""

    def __init__(self, path: str | Path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable against process crashes; fsync at checkpoints
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS articles (key TEXT PRIMARY KEY, url TEXT NOT NULL, version TEXT,"
            " emitted INTEGER NOT NULL, updated_at TEXT NOT NULL)"
        )

    def get(self, key: str) -> Record | None:
        """The record for ``key``, if any."""
        row = self._db.execute(
            "SELECT key, url, version, emitted, updated_at FROM articles WHERE key = ?", (key,)
        ).fetchone()
        return Record(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None

    def record(self, key: str, url: str, version: datetime | None, *, emitted: bool) -> None:
        """Store the final outcome for ``key`` at ``version`` in one transaction; a stored version never decreases."""
        now = version_key(datetime.now(UTC))
        self._db.execute(
            "INSERT INTO articles (key, url, version, emitted, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET url = excluded.url, emitted = excluded.emitted,"
            " updated_at = excluded.updated_at,"
            " version = CASE WHEN articles.version IS NULL OR excluded.version > articles.version"
            " THEN excluded.version ELSE articles.version END",
            (key, url, version_key(version), int(emitted), now),
        )

    def count(self) -> int:
        """Number of recorded articles."""
        return self._db.execute("SELECT count(*) FROM articles").fetchone()[0]

    def close(self) -> None:
        """Close the database (the WAL is checkpointed)."""
        self._db.close()
