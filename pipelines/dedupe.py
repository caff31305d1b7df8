"""Drops items whose ``id`` was already seen in this run."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

DUPLICATE_STAT = "items/dropped/duplicate"


class DedupePipeline:
    """Keeps the first item of each ``id`` within a run; later ones are dropped and counted."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        """Build the pipeline with the crawl's stats."""
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Return a first-seen item; raise ``DropItem`` for a repeated ``id``."""
        item_id = ItemAdapter(item).get("id")
        if item_id is None:
            return item  # no id to compare: validation (later) drops it and names the field
        if item_id in self.seen:
            self.stats.inc_value(DUPLICATE_STAT)
            raise DropItem(f"duplicate item {item_id!r}", log_level="INFO")
        self.seen.add(item_id)
        return item
