"""Incremental crawl state: which articles were already handled, and at which version.

A *version* is the newest date known for an article: sitemap ``lastmod``, feed date, or the page's own
``dateModified``. An article is fetched again only when discovery reports a version newer than the stored one.
Records are written only once an outcome is final (item written, or page found not to be an article), so a crash
never marks an article done that was not delivered.

:class:`StateStore` is the interface; :class:`SqliteState` the default backend (one file, WAL journal, one
transaction per update: a ``kill -9`` loses at most the update in flight). :class:`RedisState` is the backend of
distributed crawls (``REDIS_URL``); :func:`open_state` chooses by ``STATE_BACKEND``.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from redis import Redis, RedisError
from scrapy.settings import BaseSettings

# Counted by the spider when the state cannot record an outcome (SQLite's disk full); a storage failure (exit 5).
STATE_WRITE_FAILURES_STAT = "newsvault/state/write_failures"


class StateWriteError(Exception):
    """The state could not record an outcome (its disk is full): the next run fetches that article again."""


class StateUnavailable(Exception):
    """The state cannot be opened: its folder cannot be made, the file is not a database, the backend is unknown
    or has no usable ``REDIS_URL``."""


_VERSION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def version_key(value: datetime | None) -> str | None:
    """A comparable text form of a version: ISO 8601 in UTC with seconds (naive datetimes count as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(_VERSION_FORMAT)


def version_from_key(key: str | None) -> datetime | None:
    """The datetime of a :func:`version_key` text."""
    return datetime.strptime(key, _VERSION_FORMAT).replace(tzinfo=UTC) if key else None


@dataclass(frozen=True)
class Record:
    """What the state knows about one article."""

    key: str
    url: str
    version: str | None
    emitted: bool
    updated_at: str


class StateStore(Protocol):
    """The state backend interface (SQLite, or Redis for distributed crawls)."""

    def get(self, key: str) -> Record | None:
        """The record for ``key``, if any."""

    def record(self, key: str, url: str, version: datetime | None, *, emitted: bool) -> None:
        """Store the final outcome for ``key`` at ``version`` (never lowering a stored version); releases its hold."""

    def hold(self, key: str, url: str, version: datetime | None, feeds: list[str]) -> None:
        """Note, before its line is written to ``feeds`` (local files), that ``key`` is being delivered."""

    def held(self) -> list[tuple[str, str, datetime | None, list[str]]]:
        """(key, url, version, feed files) of every article still held (by this machine, for Redis)."""

    def release(self, key: str) -> None:
        """Forget that ``key`` was held: its article was not delivered whole and will be fetched again."""

    def close(self) -> None:
        """Release the backend."""


def needs_fetch(store: StateStore, key: str, version: datetime | None) -> bool:
    """True unless ``key`` is recorded at a version at least as new as ``version`` (None: any record suffices)."""
    rec = store.get(key)
    if rec is None:
        return True
    new = version_key(version)
    return new is not None and (rec.version is None or new > rec.version)


_UPSERT = (
    "INSERT INTO articles (key, url, version, emitted, updated_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT(key) DO UPDATE SET url = excluded.url, emitted = excluded.emitted,"
    " updated_at = excluded.updated_at,"
    " version = CASE WHEN articles.version IS NULL OR excluded.version > articles.version"
    " THEN excluded.version ELSE articles.version END"
)


class SqliteState:
    """:class:`StateStore` in one SQLite file: WAL journal, autocommit, one transaction per update."""

    def __init__(self, path: str | Path):
        """Open (or create) the file; :class:`StateUnavailable` when that fails."""
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable against process crashes; fsync at checkpoints
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS articles (key TEXT PRIMARY KEY, url TEXT NOT NULL, version TEXT,"
                " emitted INTEGER NOT NULL, updated_at TEXT NOT NULL)"
            )
            # articles whose line is being written: (key, url, version, the feed files, newline-separated)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS held (key TEXT PRIMARY KEY, url TEXT NOT NULL, version TEXT, feeds TEXT)"
            )
        except (OSError, sqlite3.Error) as error:
            raise StateUnavailable(f"{self.path}: {error}") from error

    def get(self, key: str) -> Record | None:
        """The record for ``key``, if any."""
        row = self._db.execute(
            "SELECT key, url, version, emitted, updated_at FROM articles WHERE key = ?", (key,)
        ).fetchone()
        return Record(row[0], row[1], row[2], bool(row[3]), row[4]) if row else None

    def record(self, key: str, url: str, version: datetime | None, *, emitted: bool) -> None:
        """Store the final outcome for ``key`` at ``version`` in one transaction; a stored version never decreases.

        :class:`StateWriteError` when SQLite cannot write (its disk is full, the file is read-only)."""
        now = version_key(datetime.now(UTC))
        self._write(
            (_UPSERT, (key, url, version_key(version), int(emitted), now)),
            ("DELETE FROM held WHERE key = ?", (key,)),  # released with the same commit
        )

    def hold(self, key: str, url: str, version: datetime | None, feeds: list[str]) -> None:
        """Note, before its line is written to ``feeds`` (local files), that ``key`` is being delivered.

        :meth:`record` releases it. A run killed in between leaves it held: :func:`crawlers.delivery.settle` then
        looks for its line in those files."""
        sql = "INSERT OR REPLACE INTO held (key, url, version, feeds) VALUES (?, ?, ?, ?)"
        self._write((sql, (key, url, version_key(version), "\n".join(feeds))))

    def held(self) -> list[tuple[str, str, datetime | None, list[str]]]:
        """(key, url, version, feed files) of every article still held."""
        rows = self._db.execute("SELECT key, url, version, feeds FROM held ORDER BY key").fetchall()
        return [(key, url, version_from_key(v), feeds.split("\n") if feeds else []) for key, url, v, feeds in rows]

    def release(self, key: str) -> None:
        """Forget that ``key`` was held: its article was not delivered whole and will be fetched again."""
        self._write(("DELETE FROM held WHERE key = ?", (key,)))

    def _write(self, *statements: tuple[str, tuple]) -> None:
        """Run ``statements`` in one transaction; :class:`StateWriteError` when SQLite cannot write (a full disk)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    self._db.execute(sql, args)
            except sqlite3.Error:
                if self._db.in_transaction:  # SQLite rolls back by itself on some errors (SQLITE_FULL)
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            raise StateWriteError(f"{self.path}: {error}") from error

    def count(self) -> int:
        """Number of recorded articles."""
        return self._db.execute("SELECT count(*) FROM articles").fetchone()[0]

    def close(self) -> None:
        """Close the database (the WAL is checkpointed)."""
        self._db.close()

    def __str__(self) -> str:
        return str(self.path)


# KEYS: the record, the discovered-versions hash, this machine's held hash. ARGV: version ('' for none), emitted
# (0/1), updated_at, url, TTL (s), article key. Keeps the newest of the stored, the discovered and the given
# version, and releases the article's hold.
_RECORD_SCRIPT = """
local version = ARGV[1]
local function newest(other)
  if other and other ~= '' and (version == '' or other > version) then version = other end
end
local old = redis.call('GET', KEYS[1])
if old then newest(string.match(old, '^([^\t]*)')) end
newest(redis.call('HGET', KEYS[2], ARGV[6]))
redis.call('HDEL', KEYS[2], ARGV[6])
redis.call('HDEL', KEYS[3], ARGV[6])
redis.call('SET', KEYS[1], version .. '\t' .. ARGV[2] .. '\t' .. ARGV[3] .. '\t' .. ARGV[4], 'EX', ARGV[5])
"""
# KEYS: the discovered-versions hash, the article's record. ARGV: article key, version, TTL (s).
# A date no later than the record's capture time describes content the capture already holds (another worker
# fetched the page after the change): the record's version is raised at once. A later date waits in the hash
# until the article is recorded, or makes the next run fetch it again.
_DISCOVER_SCRIPT = """
local record = redis.call('GET', KEYS[2])
if record then
  local version, emitted, captured, url = string.match(record, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$')
  if captured and ARGV[2] <= captured then
    if version == '' or ARGV[2] > version then
      redis.call('SET', KEYS[2], ARGV[2] .. '\t' .. emitted .. '\t' .. captured .. '\t' .. url, 'KEEPTTL')
    end
    return
  end
end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old or ARGV[2] > old then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
"""


class RedisState:
    """:class:`StateStore` in Redis, shared by the workers of a distributed crawl.

    One string per article, ``{prefix}{key}`` = ``version TAB emitted TAB updated_at TAB url``, expiring ``ttl``
    seconds after it was last written or looked up: an article that discovery still lists never expires, one
    that nobody listed for ``ttl`` is forgotten (and fetched again if it ever comes back). Each update is one
    atomic script, so concurrent workers never lower a stored version.

    Workers share discovery: the worker that records an article may not be the one that found its newest date.
    :meth:`discover` keeps the newest date seen per article in one hash (``{prefix}discovered``, entries removed
    when recorded), and :meth:`record` stores at least that version.

    Holds live in one hash per machine (``{prefix}held:{holder}``, the host name by default): the feed files they
    name are that machine's, so a worker settles only its own machine's holds when it starts. Workers side by side
    on one machine each need their own ``holder`` (``STATE_REDIS_HOLDER``), or one starting would settle another's
    live holds. A Redis error is a :class:`StateWriteError`, as a full disk is for SQLite.
    """

    def __init__(self, client: Redis, prefix: str, ttl: int, holder: str | None = None):
        self.client = client
        self.prefix = prefix
        self.ttl = ttl
        self.discovered_key = prefix.rstrip(":") + ":discovered"
        self.held_key = f"{prefix.rstrip(':')}:held:{holder or socket.gethostname()}"
        self._record = client.register_script(_RECORD_SCRIPT)
        self._discover = client.register_script(_DISCOVER_SCRIPT)

    def get(self, key: str) -> Record | None:
        """The record for ``key``, if any (its expiry starts again)."""
        raw = self.client.getex(self.prefix + key, ex=self.ttl)
        if raw is None:
            return None
        version, emitted, updated_at, url = raw.decode().split("\t", 3)
        return Record(key, url, version or None, emitted == "1", updated_at)

    def record(self, key: str, url: str, version: datetime | None, *, emitted: bool) -> None:
        """Store the final outcome for ``key`` at ``version`` in one script; a stored version never decreases."""
        now = version_key(datetime.now(UTC))
        args = [version_key(version) or "", int(emitted), now, url, self.ttl, key]
        with self._failures_as_write_errors():
            self._record(keys=[self.prefix + key, self.discovered_key, self.held_key], args=args)

    def hold(self, key: str, url: str, version: datetime | None, feeds: list[str]) -> None:
        """Note, before its line is written to ``feeds``, that ``key`` is being delivered (see SqliteState.hold)."""
        entry = json.dumps([url, version_key(version), feeds])
        with self._failures_as_write_errors():
            self.client.pipeline().hset(self.held_key, key, entry).expire(self.held_key, self.ttl).execute()

    def held(self) -> list[tuple[str, str, datetime | None, list[str]]]:
        """(key, url, version, feed files) of every article this machine's killed workers left held."""
        with self._failures_as_write_errors():  # at start, before anything else: Redis down stops nothing here
            entries = self.client.hgetall(self.held_key).items()
        rows = sorted((key.decode(), *json.loads(value)) for key, value in entries)
        return [(key, url, version_from_key(v), feeds) for key, url, v, feeds in rows]

    def release(self, key: str) -> None:
        """Forget that ``key`` was held: its article was not delivered whole and will be fetched again."""
        with self._failures_as_write_errors():
            self.client.hdel(self.held_key, key)

    @contextmanager
    def _failures_as_write_errors(self) -> Iterator[None]:
        try:
            yield
        except RedisError as error:
            raise StateWriteError(f"{self}: {error}") from error

    def discover(self, key: str, version: datetime) -> None:
        """Note that discovery reported ``version`` for ``key``: raises the record's version when its capture is
        newer than that date, else keeps the date (if newest) until the article is recorded."""
        self._discover(keys=[self.discovered_key, self.prefix + key], args=[key, version_key(version), self.ttl])

    def close(self) -> None:
        """Close the connection."""
        self.client.close()

    def __str__(self) -> str:
        return f"Redis {self.client.connection_pool.connection_kwargs.get('host')} {self.prefix}*"


def open_state(settings: BaseSettings, spider: str) -> StateStore:
    """The state backend of ``STATE_BACKEND`` (``sqlite`` or ``redis``; empty: ``redis`` when ``REDIS_URL`` is set)."""
    backend = settings.get("STATE_BACKEND") or ("redis" if settings.get("REDIS_URL") else "sqlite")
    if backend == "redis":
        prefix = settings.get("STATE_REDIS_PREFIX", "newsvault:{spider}:state:").format(spider=spider)
        ttl = settings.getint("STATE_REDIS_TTL", 180 * 86400)
        holder = settings.get("STATE_REDIS_HOLDER") or None
        try:
            client = Redis.from_url(settings.get("REDIS_URL") or "")
        except ValueError as error:  # redis-py's message names no part of the URL (it may hold a password)
            raise StateUnavailable(f"STATE_BACKEND=redis: REDIS_URL: {error}") from error
        return RedisState(client, prefix, ttl, holder)
    if backend != "sqlite":
        raise StateUnavailable(f"STATE_BACKEND={backend!r}: expected sqlite or redis")
    return SqliteState(settings.get("STATE_PATH", "./data/state/{spider}.sqlite").format(spider=spider))
