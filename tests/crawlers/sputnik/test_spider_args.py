"""The spider's ``-a`` arguments: what each selects, and a clear error for every bad combination."""

from datetime import date

import pytest
from scrapy.utils.test import get_crawler

from crawlers.sputnik.editions import UnknownEdition
from crawlers.sputnik.plan import SpiderArgumentError, plan_from_args
from crawlers.sputnik.spider import SputnikSpider


def codes(plan):
    return [e.code for e in plan.editions]


def test_defaults_to_latest_on_the_international_edition():
    plan = plan_from_args()
    assert (plan.mode, codes(plan), plan.refresh) == ("latest", ["en"], False)


def test_editions_list_and_all():
    assert codes(plan_from_args(editions="en, de")) == ["en", "de"]
    assert len(plan_from_args(editions="all").editions) >= 30


def test_unknown_edition_lists_the_valid_codes():
    with pytest.raises(SpiderArgumentError, match=r"unknown Sputnik edition 'xx'.*known: en, es, de"):
        plan_from_args(editions="en,xx")


def test_backfill_days_inclusive_and_until_defaults_to_today():
    plan = plan_from_args(mode="backfill", since="2024-02-28", until="2024-03-01")
    assert plan.days == (date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1))
    assert plan_from_args(mode="backfill", since="2024-01-01", today=date(2024, 1, 2)).days[-1] == date(2024, 1, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"mode": "backfill"}, "needs -a since"),
        ({"mode": "backfill", "since": "2024-13-01"}, "since='2024-13-01': expected a date as YYYY-MM-DD"),
        ({"mode": "backfill", "since": "2024-03-02", "until": "2024-03-01"}, "since=2024-03-02 is after until"),
        ({"mode": "urls"}, "needs -a urls=URL,URL or -a urls_file"),
        ({"mode": "sideways"}, "expected one of latest, backfill, urls"),
        ({"since": "2024-01-01"}, "only go with mode=backfill"),
        ({"mode": "latest", "urls": "https://sputnikglobe.com/20240101/a-1.html"}, "only go with mode=urls"),
        ({"refresh": "yes"}, "the only value is 'all'"),
        ({"urls": "sputnikglobe.com/20240101/a-1.html"}, "not an absolute http"),
        ({"urls": "https://example.com/20240101/a-1.html"}, "not on a known Sputnik host"),
        ({"editions": "de", "urls": "https://sputnikglobe.com/20240101/a-1.html"}, "not on a host of the selected"),
        ({"mode": "backfill", "since": "2024-01-01", "feed": "https://sputnikglobe.com/rss"}, "do not combine"),
        ({"urls_file": "/nonexistent/list.txt"}, "cannot read it"),
    ],
)
def test_bad_arguments_are_clear_errors(args, message):
    with pytest.raises(SpiderArgumentError, match=message.replace("(", r"\(")):
        plan_from_args(**args)


def test_urls_mode_infers_editions_from_hosts_and_reads_a_file(tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text("# a comment\nhttps://de.sputniknews.com/politik/20190101324763619-x/\n\n")
    plan = plan_from_args(urls="https://sputnikglobe.com/20240101/a-1.html", urls_file=str(listing))
    assert plan.mode == "urls"
    assert codes(plan) == ["en", "de"]
    assert plan.urls[1] == "https://de.sputniknews.com/politik/20190101324763619-x/"


def test_feed_and_sitemap_seeds():
    plan = plan_from_args(feed="https://snanews.de/export/rss2/archive/index.xml")
    assert (plan.feeds, codes(plan)) == (("https://snanews.de/export/rss2/archive/index.xml",), ["de"])
    assert plan_from_args(sitemap="https://sputnikglobe.com/sitemap_index.xml").sitemaps


def test_spider_allows_edition_hosts_historical_hosts_and_image_cdns_only():
    spider = SputnikSpider(editions="en,de", refresh="all")
    assert spider.plan.refresh
    for host in ("sputnikglobe.com", "www.sputniknews.com", "de.sputniknews.com", "cdn1.img.snanews.de"):
        assert spider.is_allowed_host(host), host
    for host in ("fr.sputniknews.com", "sputniknews.gr", "example.com", "img.example.com", ""):
        assert not spider.is_allowed_host(host), host


def test_render_editions_must_be_known_codes():
    """An unknown code was ignored: nothing was rendered, and nothing said so."""
    crawler = get_crawler(SputnikSpider, settings_dict={"NEWSVAULT_RENDER_EDITIONS": ["de", "zz"]})
    with pytest.raises(UnknownEdition, match="unknown Sputnik edition 'zz'; known: "):
        SputnikSpider.from_crawler(crawler, editions="en")
    crawler = get_crawler(SputnikSpider, settings_dict={"NEWSVAULT_RENDER_EDITIONS": [" DE"]})  # as typed
    assert SputnikSpider.from_crawler(crawler, editions="de").render.wants("de", "article")
