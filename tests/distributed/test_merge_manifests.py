"""``scrapy merge_manifests``: counts summed, files and errors unioned, worst exit code; run as a real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from commands.merge_manifests import merge, worst_exit_code
from replay.fixture_site import REPO_ROOT

SCRAPY = Path(sys.executable).with_name("scrapy")


def manifest(run: str, items: int, exit_code: int | None, status: str = "finished") -> dict:
    return {
        "manifestVersion": 1,
        "crawlId": run,
        "status": status,
        "startedAt": f"2026-01-01T00:00:0{items}+00:00",
        "finishedAt": f"2026-01-01T00:01:0{items}+00:00" if status == "finished" else None,
        "exitCode": exit_code,
        "failures": ["no_items"] if exit_code == 3 else [],
        "counts": {"items": items, "responsesByStatus": {"200": items, "404": 1}, "archive": {"archive/responses": 2}},
        "files": {"items": [{"uri": f"/d/{run}.jsonl", "items": items}], "warc": [{"uri": f"/w/{run}.warc.gz"}]},
        "errors": [{"time": "t", "logger": "x", "message": f"boom {run}"}],
    }


def test_merge_sums_counts_unions_files_and_errors():
    merged = merge([manifest("a", 3, 0), manifest("b", 4, 0)])
    expected = {"items": 7, "responsesByStatus": {"200": 7, "404": 2}, "archive": {"archive/responses": 4}}
    assert merged["counts"] == expected
    assert [f["uri"] for f in merged["files"]["warc"]] == ["/w/a.warc.gz", "/w/b.warc.gz"]
    assert [e["crawlId"] for e in merged["errors"]] == ["a", "b"]
    assert (merged["exitCode"], merged["status"], merged["startedAt"]) == (0, "finished", "2026-01-01T00:00:03+00:00")


def test_worst_exit_code_and_killed_worker():
    assert worst_exit_code([0, 6, 3, 0]) == 3  # no items outranks coverage, as in a single run
    assert worst_exit_code([4, 5]) == 5 and worst_exit_code([7, 1]) == 1 and worst_exit_code([0, 0]) == 0
    merged = merge([manifest("a", 3, 0), manifest("b", 1, None, status="running")])  # b was killed with -9
    assert (merged["exitCode"], merged["status"]) == (7, "incomplete")
    assert merged["workers"] == [{"crawlId": "a", "exitCode": 0}, {"crawlId": "b", "exitCode": 7}]


def test_command_merges_a_folder(tmp_path):
    for run, items in (("a", 2), ("b", 5)):
        (tmp_path / f"{run}.manifest.json").write_text(json.dumps(manifest(run, items, 0)))
    out = tmp_path / "merged.json"
    proc = subprocess.run(
        [str(SCRAPY), "merge_manifests", str(tmp_path), "-o", str(out)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(out.read_text())["counts"]["items"] == 7


def test_bad_input_is_refused_naming_the_file(tmp_path):
    good = tmp_path / "a.manifest.json"
    good.write_text(json.dumps(manifest("a", 2, 0)))
    (tmp_path / "broken.json").write_text("{broken")
    (tmp_path / "other.json").write_text('{"items": 3}')
    cases = {
        str(tmp_path / "missing.json"): "missing.json: cannot read (No such file or directory)",
        str(tmp_path / "broken.json"): "broken.json: not JSON (",
        str(tmp_path / "other.json"): "other.json: not a newsvault run manifest",
    }
    for path, message in cases.items():
        proc = subprocess.run(
            [str(SCRAPY), "merge_manifests", str(good), path, "-o", str(tmp_path / "out.json")],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    nowhere = tmp_path / "no-such-folder" / "out.json"
    proc = subprocess.run(
        [str(SCRAPY), "merge_manifests", str(good), "-o", str(nowhere)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2 and f"-o {nowhere}: cannot write (No such file or directory)" in proc.stderr
    assert not (tmp_path / "out.json").exists()
