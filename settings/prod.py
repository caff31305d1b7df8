"""Production settings: the defaults of ``base``, overridden from the environment (no secrets in files).

Use with ``SCRAPY_SETTINGS_MODULE=settings.prod``. Every variable is optional.
"""

import os

from settings.base import *  # noqa: F403

for _name in ("ARCHIVE_URI", "ITEMS_URI", "STATE_PATH", "REDIS_URL", "NEWSVAULT_CONTACT", "LOG_LEVEL"):
    if os.environ.get(_name):
        globals()[_name] = os.environ[_name]
