"""mitmproxy addon: answers every request from the fixture site (``replay/site/``) and never contacts the network.

Run by ``replay.server`` as ``mitmdump -s replay/addon.py --set connection_strategy=lazy --set replay_log=FILE
[--set replay_overrides=FILE]``. Imports only the stdlib, mitmproxy and the stdlib-only ``replay`` modules.
Requests for ``http://replay.invalid/ping`` and ``/reset`` (forget which URLs already got their 429) control the
replay itself and are not logged.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

from mitmproxy import ctx, http

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from replay.fixture_site import SITES, Site
from replay.pages import Reply, respond

CONTROL_HOST = "replay.invalid"


class Replay:
    """Serves the fixture site, keeps the one-time 429 state and appends every request to the request log."""

    def __init__(self) -> None:
        self.site: Site | None = None
        self.overrides_stamp: tuple[int, int] | None = None
        self.answered_429: set[str] = set()

    def load(self, loader) -> None:
        """Declare the replay's options."""
        loader.add_option("replay_log", str, "", "JSON-lines file every request is appended to")
        loader.add_option("replay_overrides", str, "", "JSON file of article overrides, re-read when it changes")
        loader.add_option("replay_site", str, "fixture", "which site to serve: fixture or hostile (replay/hostile.py)")

    def _current_site(self) -> Site:
        """The site, reloaded when the overrides file appeared, changed or went away."""
        path = Path(ctx.options.replay_overrides) if ctx.options.replay_overrides else None
        try:
            stamp = (path.stat().st_mtime_ns, path.stat().st_size) if path else None
        except FileNotFoundError:
            stamp = None
        if self.site is None or stamp != self.overrides_stamp:
            self.site = Site.load(SITES[ctx.options.replay_site], overrides=path)
            self.overrides_stamp = stamp
        return self.site

    def request(self, flow: http.HTTPFlow) -> None:
        """Answer the request from the site (or the control host) and log it."""
        if flow.request.host == CONTROL_HOST:
            if flow.request.path == "/reset":
                self.answered_429.clear()
            flow.response = http.Response.make(200, b"ok", {"Content-Type": "text/plain"})
            return
        reply = respond(self._current_site(), flow.request.url, self.answered_429)
        accepts_gzip = "gzip" in flow.request.headers.get("accept-encoding", "").lower()
        flow.response = _response(reply, gzipped=reply.gzip and accepts_gzip)
        self._log(flow, reply)

    def _log(self, flow: http.HTTPFlow, reply: Reply) -> None:
        if not ctx.options.replay_log:
            return
        record = {
            "time": time.time(),
            "method": flow.request.method,
            "url": flow.request.url,
            "host": flow.request.host,
            "status": reply.status,
            "onsite": reply.onsite,
            "kind": reply.kind,
            "user_agent": flow.request.headers.get("user-agent", ""),
        }
        with open(ctx.options.replay_log, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")


def _response(reply: Reply, *, gzipped: bool) -> http.Response:
    """A mitmproxy response carrying exactly the bytes we mean: gzip and chunking are not left to mitmproxy."""
    response = http.Response.make(reply.status, b"", {"Content-Type": reply.content_type, **reply.headers})
    body = gzip.compress(reply.body, mtime=0) if gzipped else reply.body
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    if reply.gzip:
        response.headers["Vary"] = "Accept-Encoding"
    response.raw_content = body
    if reply.chunked:
        response.headers.pop("Content-Length", None)
        response.headers["Transfer-Encoding"] = "chunked"
    else:
        response.headers["Content-Length"] = str(len(body))
    return response


addons = [Replay()]
