"""Credentials never reach a log line: known secret values and URL passwords are masked."""

import logging

from scrapy.settings import Settings

from crawlers.redact import MASK, SecretFilter, secrets_of


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
