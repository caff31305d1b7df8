"""Production settings: the defaults of ``base``, overridden from the environment (no secrets in files).

Use with ``SCRAPY_SETTINGS_MODULE=settings.prod``. Every variable is optional; credentials stay in the standard
AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``...), which boto3 reads itself.
"""

import os

from settings.base import *  # noqa: F403
from settings.base import NEWSVAULT_CONTACT as _BASE_CONTACT
from settings.base import USER_AGENT as _BASE_USER_AGENT

ENVIRONMENT_SETTINGS = (
    "ARCHIVE_URI",
    "ARCHIVE_SPOOL_DIR",
    "ITEMS_URI",
    "ITEMS_MANIFEST_URI",
    "ITEMS_SPOOL_DIR",
    "STATE_PATH",
    "REDIS_URL",
    "NEWSVAULT_CRAWL_NAME",
    "NEWSVAULT_CONTACT",
    "WARC_OPERATOR",
    "WARC_PREFIX",
    "LOG_LEVEL",
    "LOG_FILE",
)
for _name in ENVIRONMENT_SETTINGS:
    if os.environ.get(_name):
        globals()[_name] = os.environ[_name]
if os.environ.get("NEWSVAULT_CONTACT"):
    USER_AGENT = _BASE_USER_AGENT.replace(_BASE_CONTACT, os.environ["NEWSVAULT_CONTACT"])
