"""Records per second of ``scrapy reextract``'s loop on one core: WARC reading, content decoding, Sputnik extraction,
the archive pointer and the JSON line (``commands.reextract.reextracted``; only the file write is left out).

Run: ``.venv/bin/python bench/reextract.py [--copies N] [--malloc NAME]``. Target: at least 400 records/s. Prints the
reader alone (iteration + content decoding) and the whole loop; CPU time of this process. Like the command, it runs
itself again under ``NEWSVAULT_REEXTRACT_MALLOC``'s allocator (mimalloc) unless ``--malloc`` names another one
(``system``: glibc's).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.reader import iter_responses
from commands.malloc import run_under, running_allocator
from commands.reextract import reextracted
from crawlers.sputnik.pages import extract_article
from settings.base import NEWSVAULT_REEXTRACT_MALLOC
from tests.archive.fixture_warc import build_fixture_warc

TARGET = 400.0


def timed(function) -> tuple[int, float]:
    """(records handled, CPU seconds) of one pass."""
    start = time.process_time()
    count = function()
    return count, time.process_time() - start


def main() -> None:
    """Build a WARC of the fixture pages, then time reading and re-extraction."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--malloc", default=NEWSVAULT_REEXTRACT_MALLOC, help="default: %(default)s, as the command")
    args = parser.parse_args()
    copies = args.copies
    if slower := run_under(args.malloc):
        print(slower)
    print(f"malloc: {running_allocator()}")
    with tempfile.TemporaryDirectory() as folder:
        [warc] = build_fixture_warc(Path(folder), copies)
        print(f"WARC: {warc.stat().st_size / 1e6:.1f} MB, {copies} rounds of the fixture pages plus a 404 each")

        def read_only() -> int:
            return sum(1 for _ in iter_responses([str(warc)]))

        def reextract() -> int:
            counts: Counter[str] = Counter()
            for _ in reextracted(iter_responses([str(warc)]), extract_article, counts):
                pass
            return counts["responses"]

        for label, function in (("reader only", read_only), ("whole loop (JSON lines)", reextract)):
            count, seconds = timed(function)
            rate = count / seconds
            verdict = "met" if rate >= TARGET else "NOT met"
            print(f"{label:26} {count} response records in {seconds:.2f} s CPU = {rate:.0f} records/s ({verdict})")


if __name__ == "__main__":
    main()
