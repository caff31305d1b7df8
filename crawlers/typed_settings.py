"""Settings that must read as a number or a boolean, checked once at start so that a wrong value is named.

Scrapy's ``settings.getint("WARC_MAX_SIZE")`` on ``-s WARC_MAX_SIZE=10GB`` raises ``invalid literal for int()``,
naming neither the setting nor the value, from whichever component reads it first. The type each setting must have
is the type of its default in ``settings/base.py`` (an integer default: any number, as some are read as floats).
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

from crawlers.errors import InputError
from settings import base

# Exact types (a bool is no int here). An integer default is checked as a number: some are read with getfloat
# (DOWNLOAD_TIMEOUT, WARC_MAX_AGE), and a value some component accepts is never refused here.
READERS = {bool: ("getbool", "true or false"), int: ("getfloat", "a number"), float: ("getfloat", "a number")}


def typed_defaults() -> dict[str, type]:
    """Name -> type of every number or boolean setting of ``settings/base.py``."""
    return {name: type(value) for name, value in vars(base).items() if name.isupper() and type(value) in READERS}


def check_settings(settings: BaseSettings) -> None:
    """Raise :class:`InputError` naming the first setting whose value cannot be read as its default's type."""
    for name, kind in typed_defaults().items():
        reader, expected = READERS[kind]
        try:
            getattr(settings, reader)(name)
        except ValueError:
            raise InputError(f"setting {name}={settings.get(name)!r}: expected {expected}") from None


class TypedSettingsAddon:
    """Scrapy add-on (first of all): :func:`check_settings` before any component reads a setting."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Check; change nothing."""
        check_settings(settings)
