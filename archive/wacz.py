"""WACZ packaging (py-wacz) of a crawl's WARC files, for ReplayWeb.page. A derived product, never the archive."""

from __future__ import annotations

from pathlib import Path


def package_wacz(warc_paths: list[Path], output: Path) -> Path:
    """Write a WACZ of ``warc_paths`` (pages detected from the HTML responses) to ``output``."""
    from wacz.main import main as wacz_main

    code = wacz_main(["create", "--detect-pages", "-o", str(output), *map(str, warc_paths)])
    if code not in (0, None) or not output.exists():
        raise RuntimeError(f"wacz create failed with exit code {code}")
    return output
