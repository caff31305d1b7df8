"""Settings for tests: isolated state and output under ``NEWSVAULT_TEST_DIR``, never a real deployment's."""

import os

from settings.base import *  # noqa: F403

_root = os.environ.get("NEWSVAULT_TEST_DIR", "./data/test")
STATE_PATH = f"{_root}/state.sqlite"
ARCHIVE_URI = f"{_root}/warc"
ITEMS_URI = f"{_root}/items/%(name)s-%(run)s.jsonl"  # %(run)s: unique even for workers started together
ITEMS_SPOOL_DIR = f"{_root}/items-spool"
TELNETCONSOLE_ENABLED = False
NEWSVAULT_ALLOW_PRIVATE_TARGETS = True  # test sites answer on 127.0.0.1; tests/hostile and tests/security turn it off
