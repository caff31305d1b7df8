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

# Components by dotted path and order, filled in by each section below (Scrapy adds its own *_BASE entries).
ADDONS: dict[str, int] = {}
DOWNLOADER_MIDDLEWARES: dict[str, int] = {}
EXTENSIONS: dict[str, int] = {}
ITEM_PIPELINES: dict[str, int] = {}

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
# Outputs of one callback processed at once. An article yields one item; with the asyncio reactor Scrapy starts this
# many worker tasks for every response, so its default of 100 cost about 1 ms of CPU per page (bench/throughput.py).
CONCURRENT_ITEMS = 4
# Scrapy checks every generator callback for a `return value` before calling it; its cache is keyed by weak
# references to bound methods, which die at once, so it re-read and re-parsed parse_article's source for 494 of
# 2,000 pages (about 4% of the crawl thread under cProfile, docs/benchmarks.md).
# tests/crawlers/sputnik/test_callbacks.py runs the same check on every callback instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
NEWSVAULT_RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubles with every attempt
NEWSVAULT_RETRY_BACKOFF_MAX = 300.0
NEWSVAULT_RETRY_AFTER_MAX = 600.0  # longest Retry-After honoured; longer asks wait this long
NEWSVAULT_PROGRESS_INTERVAL = 60.0  # seconds between progress lines; 0: only the summary at the end
DOWNLOADER_MIDDLEWARES = {
    **DOWNLOADER_MIDDLEWARES,
    "crawlers.middlewares.HostAllowlistMiddleware": 40,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.PoliteRetryMiddleware": 550,
}
EXTENSIONS = {**EXTENSIONS, "crawlers.extensions.ProgressLog": 500}
# Number and boolean settings must read as their default's type: a wrong -s value is named at start.
ADDONS = {**ADDONS, "crawlers.typed_settings.TypedSettingsAddon": 0}
# The cyclic garbage collector's thresholds once the crawl runs (Python's: 700, 10, 10); empty: Python's own.
NEWSVAULT_GC_THRESHOLDS = [20000, 20, 20]
EXTENSIONS = {**EXTENSIONS, "crawlers.extensions.GarbageCollectorTuning": 0}
# Masks credentials (AWS keys, URL passwords) in every log line, "Overridden settings" included.
EXTENSIONS = {**EXTENSIONS, "crawlers.redact.RedactSecrets": 0}
STATE_PATH = "./data/state/{spider}.sqlite"  # SQLite file of the incremental state; {spider} is the spider name

# --- archive: WARC 1.1 capture and storage (issue 4) --------------------------------------------------------
ARCHIVE_ENABLED = True
ARCHIVE_URI = "./data/warc"  # a local folder, or s3://bucket/prefix (AWS_* settings / AWS environment for S3)
ARCHIVE_SPOOL_DIR = ""  # closed files wait here until stored; default: ARCHIVE_URI/.spool, ./data/warc-spool for S3
ARCHIVE_S3_MAX_ATTEMPTS = 8  # botocore "standard" retries: throttling (503 SlowDown), 5xx, connection errors
ARCHIVE_CRAWL_ID = ""  # warcinfo isPartOf; default: NEWSVAULT_RUN_ID, the run id the manifest and JSONL carry
WARC_PREFIX = "newsvault"  # file names: {WARC_PREFIX}-{spider}-{YYYYMMDDhhmmss}-{serial}-{host}-{token}.warc.gz
WARC_MAX_SIZE = 10**9  # bytes (WARC 1.1 annex C)
WARC_MAX_AGE = 3600  # seconds a file may stay open
WARC_OPERATOR = ""
ARCHIVE_PENDING_CAPTURES = 5000  # captures waiting for their item; older ones (pages yielding no item) are forgotten
ARCHIVE_REVISIT_CACHE_SIZE = 10_000  # payload digests remembered for revisit records (least recently seen forgotten)
WACZ_ENABLED = False  # also package the crawl's WARCs as a WACZ at close (ReplayWeb.page)
ARCHIVE_PAGE_IMAGES = False  # also fetch and archive each article's pictures (main, body, inline cards) for replay
EXTENSIONS = {**EXTENSIONS, "archive.scrapy_adapter.WarcCapture": 0}
ITEM_PIPELINES = {**ITEM_PIPELINES, "archive.scrapy_adapter.ArchivePointerPipeline": 800}

# `scrapy reextract` runs itself again with this malloc preloaded (commands/malloc.py): mimalloc (Debian 12:
# libmimalloc2.0) or jemalloc (libjemalloc2); "system" for glibc's. lxml's trees made it 13% faster here.
NEWSVAULT_REEXTRACT_MALLOC = "mimalloc"

# --- items: validation, JSONL delivery, manifest, monitoring (issue 5) --------------------------------------
# The add-on turns ITEMS_* into Scrapy's FEEDS and enables dedupe (200), validation (900), spidermon and the run
# manifest; see pipelines/feeds.py. Placeholders: %(outlet)s %(editions)s %(date)s %(run)s plus Scrapy's own.
ADDONS = {**ADDONS, "pipelines.feeds.ItemsAddon": 500}
ITEMS_URI = "./data/items/%(outlet)s/%(editions)s/%(date)s/%(run)s.jsonl"  # local, file:// or s3://; never ""
ITEMS_MANIFEST_URI = ""  # default: <folder of ITEMS_URI>/%(run)s.manifest.json
ITEMS_BATCH_ITEM_COUNT = 0  # > 0: a new file every N items (adds -%(batch_id)05d to the name)
ITEMS_GZIP = False  # True: .jsonl.gz, flushed per line (a killed run's file lacks only the gzip trailer)
ITEMS_SPOOL_DIR = ""  # s3:// items and manifests wait here until uploaded; default ./data/items-spool
# Run failure thresholds: each failing check gives an exit code (commands/crawl.py, docs/operations.md).
ITEMS_MIN_ITEMS = 1  # 0 for runs that may legitimately find nothing new
ITEMS_MAX_ERROR_RATE = 0.1  # failed exchanges / requests
ITEMS_ERROR_HTTP_CODES = [403, 429, 500, 502, 503, 504]
ITEMS_MAX_INVALID_RATIO = 0.01  # items dropped by schema validation / all items
# any > 0 fails the run: WARCs not stored, JSONL lines not written, outcomes the incremental state could not record
ITEMS_STORAGE_FAILURE_STATS = ["archive/store_failures", "items/write_failures", "newsvault/state/write_failures"]
SPIDERMON_EXPECTED_FINISH_REASONS = ["finished", "closespider_itemcount", "closespider_pagecount"]
SPIDERMON_FIELD_COVERAGE_SKIP_NONE = True  # null, "" and [] count as missing
SPIDERMON_FIELD_COVERAGE_SKIP_IF_NO_ITEM = True  # an empty run is the no-items check's failure, not coverage's
SPIDERMON_FIELD_COVERAGE_RULES = {
    "Article/id": 1.0,
    "Article/url": 1.0,
    "Article/headline": 1.0,
    "Article/datePublished": 1.0,
    "Article/articleBody": 0.99,
    "Article/inLanguage": 0.99,
    "Article/metadata": 1.0,
}

# --- security: targets outside the public web (issue 8, docs/security.md) -----------------------------------
# Above RedirectMiddleware (600) so it judges every 3xx Location before a redirect is followed.
DOWNLOADER_MIDDLEWARES = {**DOWNLOADER_MIDDLEWARES, "crawlers.middlewares.TargetGuardMiddleware": 650}
NEWSVAULT_ALLOW_PRIVATE_TARGETS = False  # True only where tests serve sites from 127.0.0.1 (settings/test.py)

# --- rendering: scrapy-playwright, opt-in (issue 7) ------------------------------------------------------------
# Off until an edition is listed (or `-a render=js`); then only those requests go through Chromium, see
# docs/rendering.md. The browser uses the http(s)_proxy / no_proxy variables and the machine's NSS certificate store.
ADDONS = {**ADDONS, "crawlers.rendering.RenderingAddon": 600}
NEWSVAULT_RENDER_EDITIONS = []  # edition codes rendered in the browser; ["*"] for every edition
NEWSVAULT_RENDER_PAGE_TYPES = ["article"]  # of those editions: "article", "home"
NEWSVAULT_RENDER_BROWSER = "/usr/bin/chromium"  # Debian's Chromium; `playwright install` is never used
NEWSVAULT_RENDER_TIMEOUT = 30  # seconds for navigation and each page method; a timeout is counted and the page closed
NEWSVAULT_RENDER_FALLBACK = True  # after a timeout or browser error, fetch the page once without the browser
NEWSVAULT_RENDER_WAIT = "networkidle"  # load state awaited after scrolling to the end: load, domcontentloaded, ...
NEWSVAULT_RENDER_CONTEXT_PAGES = 100  # a browser context (cookies, cache, memory) is replaced after this many pages
NEWSVAULT_RENDER_MAX_PAGES = 4  # pages open at once
NEWSVAULT_RENDER_IGNORE_HTTPS_ERRORS = False  # True only for a TLS proxy whose CA cannot be trusted system-wide

# --- distributed: scrapy-redis (issue 6) --------------------------------------------------------------------
# With REDIS_URL set (e.g. redis://queue.example:6379/0), N `scrapy crawl` processes share one crawl: scheduler,
# dupefilter and incremental state live in Redis (crawlers/distributed.py, docs/operations.md "Several machines").
# Unset, nothing changes. A worker's ITEMS_MIN_ITEMS defaults to 0 then (check the merged manifest instead).
ADDONS = {**ADDONS, "crawlers.distributed.DistributedAddon": 400}
REDIS_URL = ""
NEWSVAULT_CRAWL_NAME = "{spider}"  # names the crawl's Redis keys; workers with other -a arguments need another
NEWSVAULT_REDIS_WORKER_TTL = 30.0  # seconds before a killed worker's busy status expires
NEWSVAULT_REDIS_ROUND_TTL = 7 * 86400  # seconds an abandoned round's queue and dupefilter are kept
NEWSVAULT_REDIS_POLL_INTERVAL = 1.0  # seconds between looks at the shared queue while this worker is idle
STATE_BACKEND = ""  # sqlite | redis; empty: redis when REDIS_URL is set
STATE_REDIS_PREFIX = "newsvault:{spider}:state:"
STATE_REDIS_TTL = 180 * 86400  # seconds an article's record lives after it was last written or looked up
# whose held articles a worker settles at start (empty: the host name); workers running side by side on one machine
# need one each, stable across restarts (slot-1, slot-2...), like their ARCHIVE_SPOOL_DIR
STATE_REDIS_HOLDER = ""
