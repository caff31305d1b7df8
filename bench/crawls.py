"""Shared parts of the crawl benchmarks: the crawl settings, running crawls in subprocesses, reading their stats,
and describing the machine and its load (the machine is shared, so every figure carries the load it ran under).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRAPY = str(REPO / ".venv" / "bin" / "scrapy")
USER_AGENT = "newsvault-bench/0.1 (+https://github.com/newsvault/newsvault)"
# The same for the full pipeline and the plain baseline: fixed concurrency, no politeness delays.
CRAWL_SETTINGS = {
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "ROBOTSTXT_OBEY": "True",
    "USER_AGENT": USER_AGENT,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "LOG_LEVEL": "INFO",
}
_STAT = re.compile(r"'([\w/]+)': (\d+(?:\.\d+)?)")


def settings_args(settings: dict[str, str]) -> list[str]:
    """``-s NAME=value`` arguments."""
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def pipeline_command(urls_file: Path, work: Path, extra: dict[str, str] | None = None) -> list[str]:
    """The real ``scrapy crawl sputnik`` on a URL list: extraction, WARC, JSONL, state and manifest in ``work``."""
    settings = {
        **CRAWL_SETTINGS,
        "ARCHIVE_URI": str(work / "warc"),
        "ITEMS_URI": str(work / "items" / "%(run)s.jsonl"),
        "STATE_PATH": str(work / "state.sqlite"),
        "LOG_FILE": str(work / "crawl.log"),
        **(extra or {}),
    }
    return [SCRAPY, "crawl", "sputnik", "-a", "mode=urls", "-a", f"urls_file={urls_file}", *settings_args(settings)]


def plain_command(urls_file: Path, work: Path) -> list[str]:
    """Plain Scrapy (Scrapy's defaults, no project settings) fetching the same list with the same settings."""
    spider = str(REPO / "bench" / "plain_spider.py")
    settings = {**CRAWL_SETTINGS, "LOG_FILE": str(work / "crawl.log")}
    return [SCRAPY, "runspider", spider, "-a", f"urls_file={urls_file}", *settings_args(settings)]


def crawl_env(base: dict[str, str], plain: bool = False) -> dict[str, str]:
    """The environment of a crawl: tldextract offline; for plain Scrapy, no project settings module."""
    env = {**base, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    if plain:
        env["SCRAPY_SETTINGS_MODULE"] = ""  # present but empty: scrapy.cfg is not consulted
    return env


@dataclass
class Run:
    """One measured run of one or more processes started together."""

    label: str
    pages: int  # article pages fetched (responses minus robots.txt / index)
    wall: float  # seconds from the first start to the last exit, startup included
    cpu: float  # CPU seconds of the processes (user + system)
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    exit_codes: tuple[int, ...]
    stats: list[dict[str, float]]

    @property
    def rate(self) -> float:
        """Pages per second, wall clock."""
        return self.pages / self.wall

    @property
    def cpu_ms(self) -> float:
        """CPU milliseconds per page (user + system of the processes; the server's CPU not included)."""
        return 1000 * self.cpu / self.pages

    @property
    def crawl_rate(self) -> float | None:
        """Pages per second between spider open and close (Scrapy's ``elapsed_time_seconds``, longest process)."""
        elapsed = max((s.get("elapsed_time_seconds", 0.0) for s in self.stats), default=0.0)
        return self.pages / elapsed if elapsed else None

    def describe(self) -> str:
        """Two lines: pages/s (wall; crawl phase), CPU use, exit codes and load."""
        load = " ".join(f"{x:.2f}" for x in self.load_before)
        phase = f", crawl phase {self.crawl_rate:.1f} pages/s" if self.crawl_rate else ""
        return (
            f"{self.label}: {self.pages} pages in {self.wall:.1f} s = {self.rate:.1f} pages/s wall{phase}\n"
            f"    CPU {self.cpu / self.wall:.0%} of one core = {self.cpu_ms:.1f} ms CPU per page, "
            f"exit codes {list(self.exit_codes)}, load before {load}"
        )


def children_cpu() -> float:
    """CPU seconds used so far by this process's waited-for children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_together(
    label: str,
    commands: Sequence[tuple[list[str], dict[str, str], Path]],
    count: Callable[[list[dict[str, float]]], int] | None = None,
) -> Run:
    """Start every (command, env, folder) at once and wait for all; ``count(stats)`` gives the pages (default: the
    article responses in the Scrapy stats of each folder's ``crawl.log``)."""
    load_before, cpu_before, start = os.getloadavg(), children_cpu(), time.perf_counter()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen(command, env=env, cwd=REPO, **quiet) for command, env, _ in commands]
    codes = tuple(p.wait() for p in processes)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu_before
    stats = [scrapy_stats(d / "crawl.log") for _, _, d in commands]
    pages = count(stats) if count else sum(article_responses(s) for s in stats)
    return Run(label, pages, wall, cpu, load_before, os.getloadavg(), codes, stats)


def scrapy_stats(log: Path) -> dict[str, float]:
    """The numeric stats of Scrapy's closing dump in a crawl log ({} if there is no log)."""
    if not log.exists():
        return {}
    text = log.read_text(encoding="utf-8", errors="replace")
    dump = text.rsplit("Dumping Scrapy stats:", 1)[-1] if "Dumping Scrapy stats:" in text else ""
    return {name: float(value) for name, value in _STAT.findall(dump)}


def article_responses(stats: dict[str, float]) -> int:
    """Responses minus the one robots.txt."""
    return int(stats.get("response_received_count", 0)) - 1


def machine() -> str:
    """CPU count, CPU model, RAM."""
    found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    model = found.group(1).strip() if found else "unknown CPU"
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return f"nproc {os.cpu_count()}, {model}, {mem_kb / 2**20:.1f} GiB RAM"


def uptime() -> str:
    """``uptime``'s line."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
