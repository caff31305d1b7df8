"""``scrapy reextract WARC_OR_S3_URI…``: run the page objects over archived responses, with no network.

Emits one JSON line per article, like a crawl does, each with its ``archive`` pointer into the WARC it came from.
With ``--workers N``, this process reads the WARCs and N processes extract batches of responses; the lines come out
in the order one process gives.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.misc import load_object
from w3lib.encoding import http_content_type_encoding

from archive.reader import MAX_BODY, READ_ATTEMPTS, ArchivedResponse, StorageReadError, iter_responses, warc_files
from archive.storage import s3_client
from archive.writer import OPEN_SUFFIX
from commands.malloc import SYSTEM, UnknownAllocator, run_under, running_allocator
from crawlers.errors import ExtractionError, InputError, NotAnArticle
from crawlers.items import ArchivePointer, Article, to_json
from crawlers.typed_settings import check_settings

BATCH = 32  # responses per task for a worker: a few MB, about 0.1 s of extraction
AWS_SETTINGS = (  # what archive.storage.s3_client reads
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION_NAME",
)
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
        """``-o FILE``, ``--extractor`` and ``--workers``."""
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="write JSON lines to FILE instead of stdout")
        parser.add_argument(
            "--extractor",
            default="crawlers.sputnik.pages.extract_article",
            help="dotted path of the extract_article-compatible function (default: %(default)s)",
        )
        parser.add_argument(
            "-j",
            "--workers",
            type=int,
            default=1,
            metavar="N",
            help="extracting processes, fed batches of responses by this one; the output is in the same order "
            "(default: 1)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Extract every HTML 200 response; count the rest; summary on stderr; exit 1 if a page or a file failed."""
        if not args:
            raise UsageError("give at least one WARC file, folder or s3:// URI")
        if opts.workers < 1:
            raise UsageError("--workers: at least 1")
        try:
            check_settings(self.settings)
        except InputError as error:
            raise UsageError(str(error)) from None
        try:  # a wrong path fails here, before any work
            load_object(opts.extractor)
        except (ImportError, AttributeError, NameError, ValueError) as error:
            raise UsageError(f"--extractor {opts.extractor}: {error}") from None
        try:  # runs this command again under the allocator, before any work: nothing is read twice
            slower = run_under(self.settings.get("NEWSVAULT_REEXTRACT_MALLOC") or SYSTEM)
        except UnknownAllocator as error:
            raise UsageError(f"NEWSVAULT_REEXTRACT_MALLOC: {error}") from None
        if slower:
            print(f"reextract: {slower}", file=sys.stderr)
        max_body = self.settings.getint("DOWNLOAD_MAXSIZE") or MAX_BODY  # the crawl's cap (0, no cap: the default)
        job = ReextractJob(opts.extractor, {name: self.settings.get(name) for name in AWS_SETTINGS}, max_body)
        try:
            files = [uri for uri, _ in warc_files(args, cache(job.client))]
        except (OSError, ValueError) as error:  # a missing path, an unsupported URI
            raise UsageError(str(error)) from None
        if not files:
            print(f"reextract: no WARC files (*.warc.gz, *.warc) in {' '.join(args)}", file=sys.stderr)
            self.exitcode = 1
            return
        counts: Counter[str] = Counter()
        progress = Progress(counts, self.settings.getfloat("NEWSVAULT_PROGRESS_INTERVAL"))
        started = time.perf_counter()
        # -o FILE: written as FILE.open, renamed once every file was read (a file under its final name is complete)
        partial = Path(f"{opts.output}{OPEN_SUFFIX}") if opts.output else None
        try:
            out = partial.open("wb") if partial else sys.stdout.buffer
        except OSError as error:  # a folder that does not exist, a permission
            raise UsageError(f"-o {opts.output}: cannot write {partial} ({error.strerror})") from None
        try:
            if opts.workers == 1:
                out.writelines(job.lines(files, counts, progress))
            else:
                self._in_parallel(job, progress.watch(job.responses(files, counts)), opts.workers, out, counts)
        except BaseException:  # Ctrl-C included
            if partial:
                print(f"reextract: stopped; the lines written so far are in {partial}", file=sys.stderr)
            raise
        finally:
            if partial:
                out.close()
        if partial:
            partial.replace(opts.output)
        elapsed = time.perf_counter() - started
        rate = counts["responses"] / elapsed if elapsed else 0.0
        speed = f"{rate:.0f} records/s, {running_allocator()} malloc"
        print(f"reextract: {dict(sorted(counts.items()))} in {elapsed:.2f} s ({speed})", file=sys.stderr)
        self.exitcode = 1 if counts["errors"] or counts["corrupt_files"] or counts["unreadable_files"] else 0

    @staticmethod
    def _in_parallel(
        job: ReextractJob, responses: Iterable[ArchivedResponse], workers: int, out, counts: Counter[str]
    ) -> None:
        """Batches of ``responses`` to ``workers`` processes; their lines written in order as they complete.

        At most two batches per worker are in flight, so memory stays bounded whatever the size of a WARC file.
        """
        in_flight: deque = deque()

        def write_oldest() -> None:
            lines, batch_counts = in_flight.popleft().get()
            out.write(lines)
            counts.update(batch_counts)

        with get_context("spawn").Pool(workers) as pool:
            for batch in batched(responses, BATCH):
                in_flight.append(pool.apply_async(job.extract_batch, (batch,)))
                if len(in_flight) >= 2 * workers:
                    write_oldest()
            while in_flight:
                write_oldest()


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` items (the last one shorter), as Python 3.12's ``itertools.batched``."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Progress:
    """A line on stderr every ``interval`` seconds (``NEWSVAULT_PROGRESS_INTERVAL``; 0: none): the counts so far
    (with workers, those of the batches done) and the records read per second."""

    def __init__(self, counts: Counter[str], interval: float) -> None:
        self.counts, self.interval = counts, interval
        self.read = 0
        self.started = self.last = time.monotonic()

    def watch(self, responses: Iterable[ArchivedResponse]) -> Iterator[ArchivedResponse]:
        """``responses``, with a progress line whenever the interval has passed."""
        for response in responses:
            yield response
            self.read += 1
            self.tick()

    def tick(self) -> None:
        """A progress line if the interval has passed since the last one."""
        now = time.monotonic()
        if not self.interval or now - self.last < self.interval:
            return
        self.last = now
        rate = self.read / (now - self.started)
        counts = dict(sorted(self.counts.items()))
        print(f"reextract: {counts}, {self.read} read, {rate:.0f} records/s", file=sys.stderr)


@dataclass(frozen=True)
class ReextractJob:
    """What re-extraction needs, picklable for worker processes."""

    extractor: str  # dotted path of the extract function
    aws: dict[str, object] = dataclasses.field(repr=False)  # the AWS_* settings (secrets: never in a repr)
    max_body: int  # cap on a decoded body

    def client(self) -> object:
        """An S3 client from the AWS settings."""
        return s3_client(self.aws)

    def responses(self, uris: list[str], counts: Counter[str]) -> Iterator[ArchivedResponse]:
        """The response records of ``uris``; corrupt and unreadable files counted and reported on stderr."""

        def corrupt(uri: str, offset: int, error: OSError) -> None:
            if isinstance(error, StorageReadError):  # the storage failed, READ_ATTEMPTS times: the file may be fine
                counts["unreadable_files"] += 1
                message = f"reextract: {uri}: storage failed {READ_ATTEMPTS} times ({error}); the file is not done"
            else:
                counts["corrupt_files"] += 1
                message = f"reextract: {uri}: unreadable from byte {offset} on, the rest of the file skipped ({error})"
            print(message, file=sys.stderr)

        return iter_responses(uris, self.client, self.max_body, corrupt)

    def lines(self, uris: list[str], counts: Counter[str], progress: Progress | None = None) -> Iterator[bytes]:
        """JSON lines of the articles in ``uris``; ``counts`` updated; problems (and progress) reported on stderr."""
        responses = self.responses(uris, counts)
        return reextracted(progress.watch(responses) if progress else responses, load_object(self.extractor), counts)

    def extract_batch(self, batch: list[ArchivedResponse]) -> tuple[bytes, Counter[str]]:
        """In a worker: the JSON lines of a batch of responses, and its counts."""
        counts: Counter[str] = Counter()
        return b"".join(reextracted(batch, load_object(self.extractor), counts)), counts


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
