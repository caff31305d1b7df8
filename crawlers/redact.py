"""Keep credentials out of the log: Scrapy logs every overridden setting, AWS keys and proxy URLs included, and
errors quote URIs (a feed's ``ftp://user:password@host``).

:class:`RedactSecrets` is an extension (Scrapy builds extensions before it logs "Overridden settings") that installs
a log-record factory: every record masks every known secret value, and the password of any
``scheme://user:password@host`` URL, with ``***`` in its final message, its traceback and its stack, when a handler
formats it. A filter on the log handlers did this before, but Scrapy replaces its root handler right after building
the extensions, so every line after "Overridden settings" went out unmasked; a factory is process-wide, whatever
the handlers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

MASK = "***"
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|ACCESS_KEY|CREDENTIAL|API_KEY", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^\s:/@]*:)(?P<password>[^\s@/]+)(?=@)", re.IGNORECASE)
URL_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy")


def _url_passwords(values: Iterable[str]) -> set[str]:
    found = set()
    for value in values:
        try:
            password = urlsplit(value).password
        except ValueError:
            continue
        if password:
            found |= {password, unquote(password)}
    return found


def secrets_of(settings: BaseSettings, environ: dict[str, str]) -> set[str]:
    """Secret values known at start: settings and environment variables whose names say so, URL passwords."""
    named = {
        str(value)
        for name, value in [*settings.items(), *environ.items()]
        if SECRET_NAME.search(name) and isinstance(value, str) and len(value) >= 4
    }
    urls = [str(settings.get(name) or "") for name in ("REDIS_URL", "ARCHIVE_URI", "ITEMS_URI")]
    urls += [environ.get(name, "") for name in URL_VARIABLES]
    return named | _url_passwords(urls)


class SecretFilter(logging.Filter):
    """Rewrites each record's message with known secrets and URL passwords masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these too (the longest first, so a secret containing another is masked whole)."""
        self.secrets = sorted({*self.secrets, *(s for s in secrets if s)}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret and URL password replaced by ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record; only its message changes."""
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FORMATTER = logging.Formatter()


class _MaskedText:
    """A record attribute holding text, masked when read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, record: logging.LogRecord | None, owner: type | None = None):
        if record is None:
            return self
        text = record.__dict__.get(self.name)
        return MaskedRecord.mask.redact(text) if text else text

    def __set__(self, record: logging.LogRecord, text: str | None) -> None:
        record.__dict__[self.name] = text


class MaskedRecord(logging.LogRecord):
    """A standard log record whose message, traceback and stack are masked when a handler reads them, not before.

    Most records are never formatted (Scrapy's DEBUG lines, one per response and one per item with the whole item,
    below ``LOG_LEVEL``); masking each when it was made cost about 1.5 ms of CPU per page (docs/benchmarks.md).
    """

    mask = SecretFilter()  # what every masked record masks; install() adds to it

    def getMessage(self) -> str:
        """The formatted message, masked."""
        return self.mask.redact(super().getMessage())

    exc_text = _MaskedText()  # the traceback text a formatter stores
    stack_info = _MaskedText()  # the stack text of stack_info=True


class MaskedRecords:
    """The process's log-record factory once :func:`install` ran: the previous factory's records, masked."""

    def __init__(self, make_record) -> None:
        self.make_record = make_record

    def __call__(self, *args, **kwargs) -> logging.LogRecord:
        """The record, made a :class:`MaskedRecord`; a record of another class is masked now (every one formatted)."""
        record = self.make_record(*args, **kwargs)
        if type(record) is logging.LogRecord:
            record.__class__ = MaskedRecord  # same layout, one more class: masked when read
            return record
        with contextlib.suppress(Exception):  # a message that cannot be formatted: its handler reports it
            MaskedRecord.mask.filter(record)
            if record.exc_info and not record.exc_text:  # handlers print exc_text when it is set
                record.exc_text = MaskedRecord.mask.redact(_FORMATTER.formatException(record.exc_info))
        return record


def install(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` (and URL passwords) in every log record made from now on, message and traceback."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, MaskedRecords):
        logging.setLogRecordFactory(MaskedRecords(factory))
    MaskedRecord.mask.add(secrets)


class RedactSecrets:
    """Masks the crawl's secrets in every log record of the process from now on (:func:`install`)."""

    def __init__(self, crawler: Crawler) -> None:
        install(secrets_of(crawler.settings, dict(os.environ)))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedactSecrets:
        """Build from the crawler's settings and the process environment."""
        return cls(crawler)
