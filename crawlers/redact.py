"""Keep credentials out of the log: Scrapy logs every overridden setting, AWS keys and proxy URLs included.

:class:`RedactSecrets` is an extension (Scrapy builds extensions before it logs "Overridden settings") that puts a
:class:`SecretFilter` on the log handlers. The filter replaces every known secret value, and the password of any
``scheme://user:password@host`` URL, by ``***`` in each record's final message.
"""

from __future__ import annotations

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
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

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


class RedactSecrets:
    """Installs a :class:`SecretFilter` on every handler of the root logger (it stays for the process)."""

    def __init__(self, crawler: Crawler) -> None:
        self.filter = SecretFilter(secrets_of(crawler.settings, dict(os.environ)))
        for handler in logging.getLogger().handlers:
            handler.addFilter(self.filter)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedactSecrets:
        """Build from the crawler's settings and the process environment."""
        return cls(crawler)
