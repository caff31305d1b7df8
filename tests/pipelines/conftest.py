"""Fixtures for the pipelines tests: the local site and a ``scrapy crawl`` runner in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pipelines.site import Site

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    """A finished crawl: exit code, log, and the folder it wrote to."""

    returncode: int
    log: str
    out: Path

    def manifest(self) -> dict:
        """The one run manifest the crawl wrote."""
        (path,) = self.out.rglob("*.manifest.json")
        return json.loads(path.read_text(encoding="utf-8"))

    def jsonl(self) -> list[Path]:
        """Every items file the crawl wrote."""
        return sorted(self.out.rglob("*.jsonl*"))


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """The local test site, shared by the session."""
    with Site() as served:
        yield served


def crawl_command(site_url: str, out: Path, editions: str, *settings: str) -> list[str]:
    """The ``scrapy crawl articles`` command line writing under ``out``."""
    args = [sys.executable, "-m", "scrapy", "crawl", "articles", "-a", f"base={site_url}", "-a", f"editions={editions}"]
    items_uri = f"{out}/items/" + "%(outlet)s/%(editions)s/%(date)s/%(run)s.jsonl"
    args += ["-s", "SPIDER_MODULES=tests.pipelines.spiders", "-s", f"ITEMS_URI={items_uri}"]
    for setting in settings:
        args += ["-s", setting]
    return args


def crawl_env(out: Path, **extra: str) -> dict[str, str]:
    """Environment of a test crawl: test settings isolated under ``out``."""
    return {**os.environ, "SCRAPY_SETTINGS_MODULE": "settings.test", "NEWSVAULT_TEST_DIR": str(out), **extra}


@pytest.fixture
def crawl(site: Site, tmp_path: Path):
    """Run ``scrapy crawl articles`` on editions of the local site; returns a :class:`Run`."""

    def run(editions: str, *settings: str, env: dict[str, str] | None = None) -> Run:
        done = subprocess.run(
            crawl_command(site.url, tmp_path, editions, *settings),
            cwd=REPO,
            env=crawl_env(tmp_path, **(env or {})),
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Run(done.returncode, done.stderr, tmp_path)

    return run
