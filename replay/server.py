"""Start and stop the replay proxy (mitmdump from ``.tools/replay``) for tests and the demo. Stdlib only.

``python -m replay.server [WORKDIR] [--overrides FILE]`` runs it in the foreground and prints the proxy URL.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from replay.fixture_site import REPO_ROOT

MITMDUMP = REPO_ROOT / ".tools" / "replay" / "bin" / "mitmdump"
ADDON = Path(__file__).with_name("addon.py")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")


class ReplayError(RuntimeError):
    """The replay proxy did not start (the message holds the end of its log)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReplayServer:
    """The replay proxy as a context manager: ``with ReplayServer(tmp_path) as replay: run(env=replay.env())``.

    ``workdir`` receives the request log (``requests.jsonl``), mitmproxy's own confdir and its output
    (``mitmdump.log``). ``overrides`` is a JSON file that may be written or changed while the proxy runs.
    ``site`` is ``"fixture"`` (the Sputnik fixture site) or ``"hostile"`` (broken and malicious answers).
    """

    def __init__(
        self, workdir: Path, overrides: Path | None = None, *, site: str = "fixture", mitmdump: Path = MITMDUMP
    ):
        self.workdir = Path(workdir)
        self.overrides = overrides
        self.site = site
        self.mitmdump = mitmdump
        self.log_path = self.workdir / "requests.jsonl"
        self.port = 0
        self._process: subprocess.Popen | None = None

    @property
    def proxy_url(self) -> str:
        """``http://127.0.0.1:PORT``, for http_proxy / https_proxy."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ReplayServer:
        """Start mitmdump on a free loopback port and wait until the addon answers through it."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        options = {
            "connection_strategy": "lazy",
            "confdir": self.workdir / "mitmproxy",
            "http2": "false",
            "replay_log": self.log_path,
            "replay_overrides": self.overrides or "",
            "replay_site": self.site,
        }
        command = [str(self.mitmdump), "-q", "--listen-host", "127.0.0.1", "--listen-port", str(self.port)]
        command += ["-s", str(ADDON)] + [arg for k, v in options.items() for arg in ("--set", f"{k}={v}")]
        with open(self.workdir / "mitmdump.log", "ab") as output:
            self._process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self._control("ping"):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.workdir / "mitmdump.log").read_text(errors="replace")[-2000:]
                raise ReplayError(f"replay proxy did not start on port {self.port}:\n{tail}")
            time.sleep(0.05)
        return self

    def _control(self, action: str) -> bool:
        """Ask the addon itself (not the site) through the proxy; False while it is not up yet."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": self.proxy_url}))
        try:
            with opener.open(f"http://replay.invalid/{action}", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def reset(self) -> None:
        """Forget which URLs already got their one-time 429."""
        if not self._control("reset"):
            raise ReplayError("replay proxy did not answer the reset")

    def stop(self) -> None:
        """Stop mitmdump (terminate, then kill after 5 s)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def env(self) -> dict[str, str]:
        """A copy of ``os.environ`` routing http and https through the replay (and nothing around it)."""
        env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
        env.update(dict.fromkeys(PROXY_VARIABLES, self.proxy_url))
        return env

    def requests(self) -> list[dict]:
        """Every request the replay has answered so far, oldest first (see replay/README.md for the fields)."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text(encoding="utf-8").splitlines() if line]

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main() -> None:
    """Run the replay in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Run the Sputnik replay proxy in the foreground.")
    parser.add_argument("workdir", nargs="?", type=Path, help="where the request log goes (default: a temp dir)")
    parser.add_argument("--overrides", type=Path, help="JSON file of article overrides")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="replay-"))
    with ReplayServer(workdir, args.overrides) as replay:
        print(f"replay proxy: {replay.proxy_url}")
        print(f"  export http_proxy={replay.proxy_url} https_proxy={replay.proxy_url}")
        print(f"  request log: {replay.log_path}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
