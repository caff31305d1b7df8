"""Scrapy's check for generator callbacks that `return` a value, run once here on every callback of every spider.

``WARN_ON_GENERATOR_RETURN_VALUE`` is off in ``settings/base.py`` because Scrapy would repeat this check for many
responses (its cache forgets bound methods at once); the mistake it catches is caught here instead.
"""

from __future__ import annotations

import inspect

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import is_generator_with_return_value
from scrapy.utils.project import get_project_settings


def callbacks() -> list:
    """Every ``parse*`` method of every spider of the project."""
    loader = SpiderLoader.from_settings(get_project_settings())
    spiders = [loader.load(name) for name in loader.list()]
    return [method for spider in spiders for name, method in inspect.getmembers(spider) if name.startswith("parse")]


def test_the_project_has_generator_callbacks_to_check():
    assert len(callbacks()) >= 5 and any(inspect.isgeneratorfunction(c) for c in callbacks())


@pytest.mark.parametrize("callback", callbacks(), ids=lambda c: c.__qualname__)
def test_no_generator_callback_returns_a_value(callback):
    assert not is_generator_with_return_value(callback)
