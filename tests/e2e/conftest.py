"""End-to-end harness: the replay proxy, and the real ``scrapy crawl sputnik`` in a subprocess behind it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from replay.fixture_site import REPO_ROOT, Site
from replay.server import MITMDUMP, ReplayServer

SCRAPY = Path(sys.executable).with_name("scrapy")
# Fast and deterministic on a 2-core machine; the politeness under test (robots, Retry-After, 2 per host) stays.
FAST = {
    "AUTOTHROTTLE_START_DELAY": "0",
    "NEWSVAULT_RETRY_BACKOFF_BASE": "0.2",
    "NEWSVAULT_PROGRESS_INTERVAL": "1",
}


@dataclass
class Crawl:
    """The outcome of one crawl: exit code, log, the items it wrote and the requests the replay answered."""

    returncode: int
    log: str
    items: list[dict]
    requests: list[dict]

    def fetched(self, kind: str = "article") -> list[str]:
        """URLs of the requests of one kind (``article``, ``feed``, ``robots``...), in order."""
        return [r["url"] for r in self.requests if r["kind"] == kind]


class Crawler:
    """Runs ``scrapy crawl sputnik`` behind the replay with ``settings.test`` under one test directory.

    Runs of one Crawler share the incremental state (``<dir>/state.sqlite``); each writes its own items file.
    """

    def __init__(self, replay: ReplayServer, directory: Path):
        self.replay = replay
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.runs = 0

    def command(self, args: list[str], settings: dict[str, str]) -> tuple[list[str], Path]:
        """The command line of the next run and the items file it writes."""
        self.runs += 1
        items = self.directory / "items" / f"run-{self.runs}.jsonl"
        command = [str(SCRAPY), "crawl", "sputnik", *args]
        for name, value in {**FAST, "ITEMS_URI": str(items), **settings}.items():
            command += ["-s", f"{name}={value}"]
        return command, items

    def env(self) -> dict[str, str]:
        """The replay's proxy environment plus the test settings module and directory."""
        env = self.replay.env()
        env.update(SCRAPY_SETTINGS_MODULE="settings.test", NEWSVAULT_TEST_DIR=str(self.directory))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        return env

    def __call__(self, *args: str, timeout: float = 60, **settings: str) -> Crawl:
        """One complete crawl with ``-a``-style ``args`` (``"editions=en"``) and ``-s`` ``settings``."""
        command, items = self.command([a for arg in args for a in ("-a", arg)], settings)
        before = len(self.replay.requests())
        proc = subprocess.run(command, env=self.env(), cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
        return Crawl(proc.returncode, proc.stderr, read_items(items), self.replay.requests()[before:])

    def start(self, *args: str, **settings: str) -> tuple[subprocess.Popen, Path]:
        """Start a crawl in the background (for the kill test); returns the process and its items file."""
        command, items = self.command([a for arg in args for a in ("-a", arg)], settings)
        log = open(self.directory / f"run-{self.runs}.log", "wb")  # noqa: SIM115 (owned by the process)
        return subprocess.Popen(command, env=self.env(), cwd=REPO_ROOT, stdout=log, stderr=log), items


def read_items(path: Path) -> list[dict]:
    """Items of a JSONL file, or of its ``.open`` file while a run writes it or after a kill (none if neither is)."""
    open_path = path.with_name(path.name + ".open")
    path = open_path if open_path.exists() else path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def site() -> Site:
    """The fixture site model, to ask which URLs should become items."""
    return Site.load()


@pytest.fixture
def overrides(tmp_path) -> Path:
    """The replay's overrides file (absent until a test writes it)."""
    return tmp_path / "overrides.json"


@pytest.fixture
def replay(tmp_path, overrides):
    """A replay proxy of its own for the test."""
    if not MITMDUMP.exists():
        pytest.skip(f"{MITMDUMP} missing: run `make install`")
    with ReplayServer(tmp_path / "replay", overrides) as server:
        yield server


@pytest.fixture
def crawl(replay, tmp_path) -> Crawler:
    """Runs crawls behind the replay, sharing state within the test."""
    return Crawler(replay, tmp_path / "run")
