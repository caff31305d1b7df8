"""A test extension that logs the proxy URL, password included, as the spider closes: long after Scrapy replaced its
root log handler, where the secret masking once stopped working."""

from __future__ import annotations

import logging
import os

from scrapy import signals
from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class LateSecretLogger:
    """Logs ``https_proxy`` in a message and in a traceback at ``spider_closed``."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LateSecretLogger:
        """Connected to ``spider_closed``."""
        extension = cls()
        crawler.signals.connect(extension.spider_closed, signals.spider_closed)
        return extension

    def spider_closed(self) -> None:
        """One line and one traceback quoting the proxy URL."""
        proxy = os.environ.get("https_proxy", "")
        logger.warning("late line with the proxy: %s", proxy)
        try:
            raise ConnectionError(f"late failure through {proxy}")
        except ConnectionError:
            logger.exception("late traceback")
