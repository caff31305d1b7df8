"""A real ``redis-server`` of the test's own, and workers of one distributed crawl behind the replay."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError

from replay.fixture_site import Site
from replay.server import MITMDUMP, ReplayServer, free_port
from tests.e2e.conftest import Crawler

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    """``redis-server`` on a loopback port without persistence; can be restarted on the same port."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING."""
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, cwd=self.workdir, stdout=subprocess.DEVNULL)
        client, deadline = self.client(), time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except RedisError:  # until it listens
                assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server (its data is gone: no persistence)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def client(self) -> Redis:
        """A client of this server."""
        return Redis(port=self.port, socket_timeout=5)


@pytest.fixture
def redis_server(tmp_path):
    """A fresh redis-server for the test."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip(f"{REDIS_SERVER} missing: `make test` installs it (tools/system-deps.sh)")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """One replay proxy for the module (tests slice its request log)."""
    if not MITMDUMP.exists():
        pytest.skip(f"{MITMDUMP} missing: run `make install`")
    with ReplayServer(tmp_path_factory.mktemp("replay")) as server:
        yield server


@pytest.fixture
def crawl(replay, tmp_path) -> Crawler:
    """Runs workers behind the replay; each run writes its own items file and log."""
    replay.reset()
    return Crawler(replay, tmp_path / "run")


@pytest.fixture(scope="session")
def site() -> Site:
    """The fixture site model."""
    return Site.load()
