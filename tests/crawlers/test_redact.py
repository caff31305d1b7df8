"""Credentials never reach a log line: known secret values and URL passwords are masked."""

import io
import logging

import pytest
from scrapy.settings import Settings

from crawlers.redact import MASK, MaskedRecords, SecretFilter, install, secrets_of


def test_secret_settings_environment_and_url_passwords_are_collected():
    settings = Settings(
        {
            "AWS_SECRET_ACCESS_KEY": "s3cr3t-value",
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "REDIS_URL": "redis://:pw9x@h:1/0",
        }
    )
    environ = {"https_proxy": "http://user:pr%40xy@proxy:3128", "GITHUB_TOKEN": "tok-123456", "HOME": "/root"}
    found = secrets_of(settings, environ)
    assert {"s3cr3t-value", "AKIAEXAMPLE", "pw9x", "pr@xy", "pr%40xy", "tok-123456"} <= found
    assert "/root" not in found


def test_the_filter_rewrites_the_final_message_and_keeps_the_record(caplog):
    logger = logging.getLogger("test.redact")
    secret_filter = SecretFilter({"AKIAEXAMPLE"})
    logger.addFilter(secret_filter)
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("Overridden settings:\n%(s)s", {"s": {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "X": 1}})
        logger.info("proxy %s", "http://bob:hunter2@proxy.example:3128/")
    logger.removeFilter(secret_filter)
    assert [r.getMessage() for r in caplog.records] == [
        f"Overridden settings:\n{{'AWS_ACCESS_KEY_ID': '{MASK}', 'X': 1}}",
        f"proxy http://bob:{MASK}@proxy.example:3128/",
    ]


def test_text_without_secrets_is_left_alone():
    assert SecretFilter({"abcd"}).redact("GET https://sputnikglobe.com/a:b@c") == "GET https://sputnikglobe.com/a:b@c"


@pytest.fixture
def record_factory():
    """The process's log-record factory, restored after the test."""
    original = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(original)


def test_a_handler_installed_later_still_gets_masked_lines_and_tracebacks(record_factory):
    """Scrapy replaces its root log handler after building the extensions: a filter on the handlers was lost there,
    and every later line (a feed's ftp://user:password@ URI in "Error storing ...") went out unmasked."""
    install({"s3cr3t-value"})
    install({"0ther-secret"})  # a second crawler in the process adds its secrets to the same factory
    assert isinstance(logging.getLogRecordFactory(), MaskedRecords)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # installed after install(), as Scrapy's new root handler is
    logger = logging.getLogger("test.redact.late")
    logger.addHandler(handler)
    try:
        logger.error("Error storing feed in: %s", "ftp://user:hunter2@ftp.example/items.jsonl")
        try:
            raise ValueError("not a spoolable URI: 's3cr3t-value' and 0ther-secret")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert f"ftp://user:{MASK}@ftp.example" in text and f"ValueError: not a spoolable URI: '{MASK}' and {MASK}" in text
    assert "hunter2" not in text and "s3cr3t-value" not in text and "0ther-secret" not in text


def test_a_message_that_cannot_be_formatted_still_makes_a_record(record_factory):
    install({"abcd"})
    make_record = logging.getLogRecordFactory()
    record = make_record("test", logging.INFO, __file__, 1, "%d items", ("not a number",), None)
    assert record.msg == "%d items"  # left for the handler, which reports the bad format as it always did


def test_a_record_no_handler_prints_is_never_formatted(record_factory):
    """Masking each record when it was made formatted Scrapy's DEBUG "Scraped from" line, the whole item, for every
    item: 1.5 ms of CPU per page, with LOG_LEVEL at INFO."""

    class Item:
        formatted = 0

        def __repr__(self) -> str:
            Item.formatted += 1
            return "item abcd"

    install({"abcd"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.INFO)  # as Scrapy's root handler, at LOG_LEVEL
    logger = logging.getLogger("test.redact.lazy")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False  # pytest's own handlers format every record
    try:
        logger.debug("Scraped from %r", Item())
        assert Item.formatted == 0
        logger.info("Scraped from %r", Item())
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert Item.formatted == 1 and stream.getvalue() == f"Scraped from item {MASK}\n"


def test_records_of_another_factory_are_masked_when_made(record_factory):
    class Tagged(logging.LogRecord):
        """A record class of another library's factory."""

    logging.setLogRecordFactory(Tagged)
    install({"abcd"})
    record = logging.getLogRecordFactory()("test", logging.INFO, __file__, 1, "key %s", ("abcd",), None)
    assert type(record) is Tagged and record.getMessage() == f"key {MASK}"


def test_a_stack_given_with_the_record_is_masked_when_read(record_factory):
    install({"abcd"})
    record = logging.getLogRecordFactory()("test", logging.INFO, __file__, 1, "m", (), None, sinfo="Stack: abcd")
    assert record.stack_info == f"Stack: {MASK}" and record.__dict__["stack_info"] == "Stack: abcd"
