"""``scrapy reextract WARC_OR_S3_URI…``: run the page objects over archived responses, with no network.

Emits one JSON line per article, like a crawl does, each with its ``archive`` pointer into the WARC it came from.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.misc import load_object
from w3lib.encoding import http_content_type_encoding

from archive.reader import MAX_BODY, ArchivedResponse, iter_responses
from archive.storage import s3_client
from crawlers.errors import ExtractionError, NotAnArticle
from crawlers.items import ArchivePointer, Article, to_json

Extractor = Callable[..., Article]  # extract_article's signature: (body, url, *, encoding, http_status, downloaded_at)


class Command(ScrapyCommand):
    """Re-extract items from archived responses."""

    requires_project = True
    default_settings: ClassVar[dict[str, object]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        """Usage line."""
        return "[options] WARC_OR_S3_URI..."

    def short_desc(self) -> str:
        """One line for ``scrapy -h``."""
        return "Re-extract items from WARC files (local files, folders or s3:// URIs), offline"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """``-o FILE`` and ``--extractor``."""
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="write JSON lines to FILE instead of stdout")
        parser.add_argument(
            "--extractor",
            default="crawlers.sputnik.pages.extract_article",
            help="dotted path of the extract_article-compatible function (default: %(default)s)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Extract every HTML 200 response; count the rest; summary on stderr; exit 1 if a page or a file failed."""
        if not args:
            raise UsageError("give at least one WARC file, folder or s3:// URI")
        extract = load_object(opts.extractor)
        counts: Counter[str] = Counter()
        started = time.perf_counter()
        max_body = self.settings.getint("DOWNLOAD_MAXSIZE") or MAX_BODY  # the crawl's cap (0, no cap: the default)

        def corrupt(uri: str, offset: int, error: OSError) -> None:
            counts["corrupt_files"] += 1
            message = f"reextract: {uri}: unreadable from byte {offset} on, the rest of the file skipped ({error})"
            print(message, file=sys.stderr)

        responses = iter_responses(args, lambda: s3_client(self.settings), max_body, corrupt)
        out = open(opts.output, "wb") if opts.output else sys.stdout.buffer  # noqa: SIM115
        try:
            for line in reextracted(responses, extract, counts):
                out.write(line)
        finally:
            if out is not sys.stdout.buffer:
                out.close()
        elapsed = time.perf_counter() - started
        rate = counts["responses"] / elapsed if elapsed else 0.0
        print(f"reextract: {dict(counts)} in {elapsed:.2f} s ({rate:.0f} records/s)", file=sys.stderr)
        self.exitcode = 1 if counts["errors"] or counts["corrupt_files"] else 0


def reextracted(responses: Iterable[ArchivedResponse], extract: Extractor, counts: Counter[str]) -> Iterator[bytes]:
    """A JSON line per article among ``responses``, with its ``archive`` pointer; ``counts`` says what became of each
    response. A page that fails is reported on stderr and counted as an error; the loop goes on."""
    for response in responses:
        counts["responses"] += 1
        if response.undecodable:
            counts["undecodable"] += 1
            print(f"reextract: {response.url}: not read: {response.undecodable}", file=sys.stderr)
            continue
        if response.status != 200 or "html" not in response.content_type:
            counts["skipped"] += 1
            continue
        try:
            article = extract(
                response.body,
                response.url,
                encoding=http_content_type_encoding(response.content_type),  # as Scrapy decodes it live
                http_status=response.status,
                downloaded_at=response.captured_at,
            )
        except NotAnArticle:
            counts["not_articles"] += 1
            continue
        except Exception as error:  # one broken page must not stop a re-parse of years of archives
            counts["errors"] += 1
            kind = "" if isinstance(error, ExtractionError) else f"{type(error).__name__}: "
            print(f"reextract: {response.url}: {kind}{error}", file=sys.stderr)
            continue
        article.archive = ArchivePointer.of(response.warc_uri, response)
        counts["items"] += 1
        yield to_json(article) + b"\n"
