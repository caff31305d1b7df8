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

# --- archive: WARC 1.1 capture and storage (issue 4) --------------------------------------------------------

# --- items: validation, JSONL delivery, manifest, monitoring (issue 5) --------------------------------------
