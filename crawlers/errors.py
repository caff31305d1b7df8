"""Errors the extractors raise: both carry a one-line reason fit for a log line or stderr."""


class ExtractionError(Exception):
    """Base class: a page could not be turned into an item."""


class NotAnArticle(ExtractionError):
    """The page is readable but is not an article (home page, tag page, error page...)."""


class UnreadablePage(ExtractionError):
    """The input cannot be parsed as HTML at all (empty, binary, undecodable)."""
