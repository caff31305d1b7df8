"""End to end: ``scrapy crawl sputnik`` behind the replay proxy delivers schema-valid JSONL and a clean manifest."""

import json
import os
import subprocess
import sys

import duckdb
import jsonschema
import pytest

from crawlers.schema import load_schema
from replay.server import MITMDUMP, ReplayServer
from tests.pipelines.conftest import REPO

pytestmark = pytest.mark.e2e


def test_sputnik_run_delivers_valid_jsonl_and_manifest(tmp_path):
    if not MITMDUMP.exists():
        pytest.skip(f"{MITMDUMP} missing: run `make install`")
    items_uri = f"{tmp_path}/items/" + "%(outlet)s/%(editions)s/%(date)s/%(run)s.jsonl"
    command = [sys.executable, "-m", "scrapy", "crawl", "sputnik", "-a", "editions=en,de"]
    command += ["-s", f"ITEMS_URI={items_uri}"]
    command += ["-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "ITEMS_MAX_ERROR_RATE=1"]  # the replay serves a 404, a 429
    with ReplayServer(tmp_path / "replay") as replay:
        env = {**replay.env(), "SCRAPY_SETTINGS_MODULE": "settings.test", "NEWSVAULT_TEST_DIR": str(tmp_path)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    (jsonl,) = tmp_path.glob("items/sputnik/de+en/*/*.jsonl")
    validator = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())
    rows = duckdb.sql(f"SELECT to_json(t) AS row FROM read_json('{jsonl}', format='newline_delimited') t").fetchall()
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(lines) > 0
    for line in lines:
        validator.validate(json.loads(line))
    (manifest_path,) = jsonl.parent.glob("*.manifest.json")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["exitCode"] == 0 and manifest["failures"] == [] and manifest["editions"] == ["de", "en"]
    assert manifest["counts"]["items"] == len(lines)
    assert manifest["files"]["items"] == [{"uri": str(jsonl), "items": len(lines)}]
    assert manifest["fieldCoverage"]["Article/headline"] == 1.0
    assert manifest["counts"]["archive"].get("archive/responses", 0) >= len(lines)
