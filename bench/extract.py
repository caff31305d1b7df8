"""Pages per second of Sputnik extraction over the test fixtures, on one core (target: at least 300 pages/s).

Run: ``.venv/bin/python bench/extract.py [--rounds N]``. Parsing included, I/O excluded (pages read once).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.sputnik.pages import extract_article

TARGET = 300.0
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sputnik"


def main() -> None:
    """Extract every fixture page N times and print per-page and overall figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    pages = [(p, p.read_bytes()) for p in sorted(FIXTURES.glob("*/*.html"))]
    url = "https://snanews.de/20201216/x-1.html"
    total_time, total_pages = 0.0, 0
    for path, body in pages:
        extract_article(body, url)  # warm up (XPath compilation)
        start = time.process_time()
        for _ in range(rounds):
            extract_article(body, url)
        elapsed = time.process_time() - start
        total_time += elapsed
        total_pages += rounds
        print(f"{path.name[:60]:60} {len(body) / 1024:6.0f} KB {rounds / elapsed:7.0f} pages/s")
    rate = total_pages / total_time
    print(f"overall: {total_pages} pages in {total_time:.2f} s CPU = {rate:.0f} pages/s on one core")
    print(f"ratio to the {TARGET:.0f} pages/s target: {rate / TARGET:.2f}x ({'met' if rate >= TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
