"""``scrapy extract``: one JSON object on stdout and exit 0; one stderr line and a non-zero exit otherwise."""

import json
import subprocess
import sys
from pathlib import Path

from tests.crawlers.sputnik.conftest import FIXTURES, SEED, URLS

ROOT = Path(__file__).parents[3]


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "scrapy", "extract", *args]
    return subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, timeout=60, check=False)


def test_prints_one_utf8_json_object():
    done = _run(str(FIXTURES / SEED), "--url", URLS[SEED])
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("utf-8")
    assert out.count("\n") == 1
    data = json.loads(out)
    assert data["headline"].startswith("Russia Considers Mali Gov’t.")
    assert "Gov’t." in out and "\\u2019" not in out  # UTF-8, not ASCII-escaped
    assert data["archive"] is None and data["metadata"]["parser"] == "sputnik/current@1"


def test_reads_stdin():
    name = "real/de-sputniknews-com-old-layout-renewrs-88.html"
    done = _run("-", "--url", URLS[name], stdin=(FIXTURES / name).read_bytes())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == "sputnik:de:326539003"


def test_non_article_and_unreadable_input_fail_clearly(tmp_path):
    home = tmp_path / "home.html"
    home.write_text("<html><head><title>Home</title></head><body><p>hi</p></body></html>")
    for path, reason in ((home, "NotAnArticle"), (tmp_path / "missing.html", "No such file"), (tmp_path, "")):
        done = _run(str(path), "--url", "https://snanews.de/")
        assert done.returncode != 0
        assert done.stdout == b""
        err = done.stderr.decode().strip()
        assert err.count("\n") == 0 and reason in err, err
    done = _run("-", "--url", "https://snanews.de/x", stdin=b"")
    assert done.returncode != 0 and "empty body" in done.stderr.decode()
