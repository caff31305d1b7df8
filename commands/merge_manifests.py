"""``scrapy merge_manifests MANIFEST...|DIR -o OUT``: one manifest for a crawl run by several workers.

Each worker of a distributed crawl (``REDIS_URL``) writes its own run manifest. The merged document sums the
``counts`` (nested numbers too), unions the ``files`` and concatenates the ``errors`` (each tagged with its
worker's ``crawlId``), lists the ``workers`` with their exit codes, and takes the worst ``exitCode``: the first of
5, 7, 3, 4, 6 present (``pipelines.monitors.EXIT_CODES``), a start failure (1, 2) before those. A manifest still
``running`` counts as interrupted (7): that worker was killed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pipelines.monitors import EXIT_CODES, EXIT_OK

INTERRUPTED = EXIT_CODES["interrupted"]


def manifest_paths(args: list[str]) -> list[Path]:
    """The manifest files named, or found (``*.manifest.json``, recursively) in the folders named."""
    paths: list[Path] = []
    for arg in map(Path, args):
        paths += sorted(arg.rglob("*.manifest.json")) if arg.is_dir() else [arg]
    return paths


def read_manifest(path: Path) -> dict[str, Any]:
    """One worker's run manifest; :class:`UsageError` naming the file when it cannot be read or is no manifest."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: cannot read ({error.strerror})") from None
    except ValueError as error:  # not JSON, not UTF-8
        raise UsageError(f"{path}: not JSON ({error})") from None
    if not isinstance(manifest, dict) or not {"manifestVersion", "crawlId", "status"} <= manifest.keys():
        raise UsageError(f"{path}: not a newsvault run manifest (no manifestVersion, crawlId and status)")
    return manifest


def worker_exit_code(manifest: dict[str, Any]) -> int:
    """A worker's exit code; interrupted when its manifest says it never finished."""
    code = manifest.get("exitCode")
    return INTERRUPTED if manifest.get("status") != "finished" or code is None else int(code)


def worst_exit_code(codes: list[int]) -> int:
    """The most severe code: start failures first, then the order of ``EXIT_CODES``, else 0."""
    severity = [*sorted({c for c in codes if c not in (EXIT_OK, *EXIT_CODES.values())}), *EXIT_CODES.values()]
    return next((code for code in severity if code in codes), EXIT_OK)


def add_counts(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """``total`` plus ``part``, key by key; nested dicts are added the same way, other values kept from the first."""
    merged = dict(total)
    for key, value in part.items():
        if isinstance(value, dict):
            merged[key] = add_counts(merged.get(key, {}), value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            merged[key] = merged.get(key, 0) + value
        else:
            merged.setdefault(key, value)
    return merged


def merge(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    """The merged manifest of one crawl's workers."""
    counts: dict[str, Any] = {}
    files: dict[str, list] = {}
    for manifest in manifests:
        counts = add_counts(counts, manifest.get("counts", {}))
        for kind, entries in manifest.get("files", {}).items():
            for entry in entries if isinstance(entries, list) else [entries]:
                if entry not in files.setdefault(kind, []):
                    files[kind].append(entry)
    codes = [worker_exit_code(m) for m in manifests]
    return {
        "manifestVersion": max(m.get("manifestVersion", 1) for m in manifests),
        "merged": True,
        "status": "finished" if all(m.get("status") == "finished" for m in manifests) else "incomplete",
        "startedAt": min((m["startedAt"] for m in manifests if m.get("startedAt")), default=None),
        "finishedAt": max((m["finishedAt"] for m in manifests if m.get("finishedAt")), default=None),
        "exitCode": worst_exit_code(codes),
        "failures": sorted({f for m in manifests for f in m.get("failures", [])}),
        "workers": [{"crawlId": m.get("crawlId"), "exitCode": c} for m, c in zip(manifests, codes, strict=True)],
        "counts": counts,
        "files": files,
        "errors": [{**e, "crawlId": m.get("crawlId")} for m in manifests for e in m.get("errors", [])],
    }


class Command(ScrapyCommand):
    """Merge the run manifests of a crawl's workers into one manifest."""

    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        """Usage line."""
        return "MANIFEST...|DIR -o OUT"

    def short_desc(self) -> str:
        """One line for ``scrapy -h``."""
        return "Merge the run manifests of several workers of one crawl (counts, files, errors, worst exit code)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """``-o/--output``: where the merged manifest goes (``-`` for stdout)."""
        super().add_options(parser)
        parser.add_argument("-o", "--output", required=True, help="merged manifest file, or - for stdout")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Write the merged manifest; the exit code is the merged ``exitCode``."""
        paths = manifest_paths(args)
        if not paths:
            raise UsageError("give manifest files or folders holding *.manifest.json")
        merged = merge([read_manifest(p) for p in paths])
        text = json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
        if opts.output == "-":
            sys.stdout.write(text)
        else:
            try:
                Path(opts.output).write_text(text, encoding="utf-8")
            except OSError as error:
                raise UsageError(f"-o {opts.output}: cannot write ({error.strerror})") from None
        self.exitcode = merged["exitCode"]
