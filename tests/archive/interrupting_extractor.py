"""An extract function for ``scrapy reextract --extractor``: the real one, then Ctrl-C at the second page."""

from __future__ import annotations

from typing import Any

from crawlers.items import Article
from crawlers.sputnik.pages import extract_article

_calls = 0


def extract_then_interrupt(body: bytes, url: str, **kwargs: Any) -> Article:
    """The first page as usual; ``KeyboardInterrupt`` at the second, as if the user pressed Ctrl-C."""
    global _calls
    _calls += 1
    if _calls > 1:
        raise KeyboardInterrupt
    return extract_article(body, url, **kwargs)
