"""Shared helpers for archive tests: a deterministic record builder and an independent WARC checker."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.records import CrawlInfo, RecordBuilder

ROOT = Path(__file__).resolve().parents[2]
WARCIO = Path(sys.executable).with_name("warcio")
INFO = CrawlInfo(
    software="newsvault/test",
    hostname="testhost",
    ip="127.0.0.1",
    operator="Test Operator",
    user_agent="newsvault-test/1.0",
    contact="archive@example.org",
    robots="obey",
    crawl_id="crawl-1",
    description="unit test",
)


def fixed_builder() -> RecordBuilder:
    """A builder whose clock ticks one second per call from 2024-01-02 03:04:05 UTC and whose ids count up."""
    ticks = itertools.count()
    ids = itertools.count(1)
    start = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    return RecordBuilder(
        clock=lambda: start + timedelta(seconds=next(ticks)),
        new_id=lambda: f"<urn:uuid:00000000-0000-0000-0000-{next(ids):012d}>",
    )


def warcio_check(path: Path) -> str:
    """Run ``warcio check -v`` on a file; fail the test with its output unless it passes."""
    result = subprocess.run([str(WARCIO), "check", "-v", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "digest fail" not in result.stdout
    return result.stdout


@pytest.fixture
def builder() -> RecordBuilder:
    """The deterministic builder."""
    return fixed_builder()
