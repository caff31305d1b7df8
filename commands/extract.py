"""``scrapy extract PATH --url URL``: print the item of a saved page as one JSON object (re-parsing, debugging)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawlers.errors import ExtractionError
from crawlers.items import to_json
from crawlers.sputnik.pages import extract_article


class Command(ScrapyCommand):
    """Extract one saved page (a file, or ``-`` for stdin) and print its Article item as JSON on stdout."""

    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        """Usage line."""
        return "PATH --url URL"

    def short_desc(self) -> str:
        """One line for ``scrapy -h``."""
        return "Extract the article item of a saved page and print it as JSON"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """``--url`` (required) and ``--encoding``."""
        super().add_options(parser)
        parser.add_argument("--url", required=True, help="the URL the page was fetched from")
        parser.add_argument("--encoding", default=None, help="charset of the HTTP Content-Type header, if known")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Print the item, or one line on stderr and exit code 1."""
        if len(args) != 1:
            raise UsageError("give exactly one PATH (or - for stdin)")
        path = args[0]
        try:
            body = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
            item = extract_article(body, opts.url, encoding=opts.encoding)
        except (OSError, ExtractionError) as exc:
            sys.stderr.write(f"extract: {path}: {type(exc).__name__}: {exc}\n")
            self.exitcode = 1
            return
        sys.stdout.buffer.write(to_json(item) + b"\n")
