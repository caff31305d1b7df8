"""Every default of newsvault, with no secrets. ``prod`` reads the environment on top; ``test`` isolates tests.

Components are named by dotted path, never imported here. Settings that newsvault adds carry a prefix:
``WARC_*`` / ``ARCHIVE_*`` (archive), ``ITEMS_*`` (JSONL), ``STATE_*`` (incremental state), ``NEWSVAULT_*``.
"""

BOT_NAME = "newsvault"
SPIDER_MODULES = ["crawlers.sputnik.spider"]
NEWSPIDER_MODULE = "crawlers.sputnik"
COMMANDS_MODULE = "commands"

# Scrapy's defaults that newsvault relies on, pinned so an upgrade cannot change them silently.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"  # Scrapy's default is ASCII-escaped JSON
LOG_LEVEL = "INFO"

# --- crawl: politeness, robustness, incremental state (issue 3) ---------------------------------------------
# tldextract (used by Scrapy's cookie middleware) would download the public suffix list on first use: use the
# snapshot it bundles instead, so that no request leaves for a host outside the crawl. Set the variable to a URL
# or file path yourself to use a fresher list.
import os as _os  # noqa: E402

_os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

NEWSVAULT_CONTACT = "newsvault@example.org"  # where site operators can reach whoever runs the crawler
USER_AGENT = f"newsvault/0.1 (news archiving crawler; +https://github.com/newsvault/newsvault; {NEWSVAULT_CONTACT})"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
NEWSVAULT_RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubles with every attempt
NEWSVAULT_RETRY_BACKOFF_MAX = 300.0
NEWSVAULT_RETRY_AFTER_MAX = 600.0  # longest Retry-After honoured; longer asks wait this long
NEWSVAULT_PROGRESS_INTERVAL = 60.0  # seconds between progress lines; 0 disables them
DOWNLOADER_MIDDLEWARES = {
    **globals().get("DOWNLOADER_MIDDLEWARES", {}),
    "crawlers.middlewares.HostAllowlistMiddleware": 40,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.PoliteRetryMiddleware": 550,
}
EXTENSIONS = {**globals().get("EXTENSIONS", {}), "crawlers.extensions.ProgressLog": 500}
STATE_PATH = "./data/state/{spider}.sqlite"  # SQLite file of the incremental state; {spider} is the spider name

# --- archive: WARC 1.1 capture and storage (issue 4) --------------------------------------------------------

# --- items: validation, JSONL delivery, manifest, monitoring (issue 5) --------------------------------------
