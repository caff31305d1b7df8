"""Errors the extractors raise, and the error of a wrong input at start; each carries a one-line reason fit for a
log line or stderr."""


class ExtractionError(Exception):
    """Base class: a page could not be turned into an item."""


class NotAnArticle(ExtractionError):
    """The page is readable but is not an article (home page, tag page, error page...)."""


class UnreadablePage(ExtractionError):
    """The input cannot be parsed as HTML at all (empty, binary, undecodable)."""


class StartFailure(Exception):
    """The crawl cannot start, for a reason its message says in one line: ``scrapy crawl`` logs it, no traceback."""


class InputError(StartFailure, ValueError):
    """A spider argument or setting the user gave is wrong."""
