"""Unit tests of the garbage collector tuning extension (in-process, no crawl)."""

import gc

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawlers.extensions import GarbageCollectorTuning


@pytest.fixture
def restored_gc():
    """Python's collector settings as they were before the test."""
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_engine_start_freezes_start_up_objects_and_sets_the_thresholds(restored_gc):
    crawler = get_crawler(settings_dict={"NEWSVAULT_GC_THRESHOLDS": [5000, 15, 25]})
    extension = GarbageCollectorTuning.from_crawler(crawler)
    assert gc.get_threshold() != (5000, 15, 25)  # nothing happens before the engine starts
    extension.engine_started()
    assert gc.get_threshold() == (5000, 15, 25)
    assert gc.get_freeze_count() > 1000  # modules, classes and settings of this test process


def test_an_empty_setting_leaves_the_collector_alone_and_a_bad_one_is_refused():
    with pytest.raises(NotConfigured):
        GarbageCollectorTuning.from_crawler(get_crawler(settings_dict={"NEWSVAULT_GC_THRESHOLDS": []}))
    for bad in ([0, 10, 10], [1, 2, 3, 4]):
        with pytest.raises(ValueError, match="NEWSVAULT_GC_THRESHOLDS"):
            GarbageCollectorTuning.from_crawler(get_crawler(settings_dict={"NEWSVAULT_GC_THRESHOLDS": bad}))
