"""Date parsing and offset reconciliation against unix timestamps, on the forms the Sputnik pages use."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawlers import dates

CET, CEST = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20201216T1647+0100", datetime(2020, 12, 16, 16, 47, tzinfo=CET)),
        ("2020-12-16T16:47+0100", datetime(2020, 12, 16, 16, 47, tzinfo=CET)),
        ("2021-12-28T20:33+0000", datetime(2021, 12, 28, 20, 33, tzinfo=UTC)),
        ("2020-10-15T18:15:00Z", datetime(2020, 10, 15, 18, 15, tzinfo=UTC)),
        ("2020-10-15T18:15", datetime(2020, 10, 15, 18, 15)),
        ("not a date", None),
        ("2020-13-45T10:00", None),
    ],
)
def test_parse_iso_like(raw, expected):
    parsed = dates.parse_iso_like(raw)
    assert parsed == expected
    if expected is not None:
        assert parsed.utcoffset() == expected.utcoffset()


def test_wrong_z_is_corrected_from_the_unix_time():
    # old layout: meta datePublished "2020-10-15T18:15:00Z" is Berlin wall clock; analytics:p_ts is 16:15 UTC
    fixed = dates.reconcile(dates.parse_iso_like("2020-10-15T18:15:00Z"), dates.from_unix("1602778500"))
    assert dates.to_iso(fixed) == "2020-10-15T18:15:00+02:00"
    assert fixed == datetime(2020, 10, 15, 16, 15, tzinfo=UTC)


def test_right_offset_is_kept_and_naive_gets_derived_offset():
    unix = dates.from_unix(1608133660)  # 2020-12-16 15:47:40 UTC
    assert (
        dates.to_iso(dates.reconcile(dates.parse_iso_like("20201216T1647+0100"), unix)) == "2020-12-16T16:47:00+01:00"
    )
    assert dates.to_iso(dates.reconcile(dates.parse_iso_like("2020-12-16T16:47"), unix)) == "2020-12-16T16:47:00+01:00"
    assert dates.reconcile(dates.parse_iso_like("2020-12-16T16:47"), None) is None  # no offset known: no guess


def test_sibling_takes_the_corrected_offset():
    declared = dates.parse_iso_like("2020-10-15T18:15:00Z")
    published = dates.reconcile(declared, dates.from_unix(1602778500))
    modified = dates.reconcile_sibling(dates.parse_iso_like("2020-10-16T17:12:35Z"), declared, published)
    assert dates.to_iso(modified) == "2020-10-16T17:12:35+02:00"
    right = dates.parse_iso_like("2021-12-28T20:33+0000")
    assert dates.to_iso(dates.reconcile_sibling(dates.parse_iso_like("2021-12-28T20:35+0000"), right, right)) == (
        "2021-12-28T20:35:00+00:00"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20:33 GMT 28.12.2021 (Updated: 20:35 GMT 28.12.2021)", "2021-12-28T20:33:00+00:00"),
        ("Yesterday, 22:14 GMT", "2021-12-27T22:14:00+00:00"),
        ("21:05 GMT", "2021-12-28T21:05:00+00:00"),
        ("Gestern, 09:00", "2021-12-27T09:00:00"),
    ],
)
def test_visible_lines_resolve_against_the_page_date(raw, expected):
    page = datetime(2021, 12, 28, 20, 33, tzinfo=UTC)
    assert dates.parse_visible(raw, page).isoformat() == expected


def test_visible_local_line_without_reference():
    assert dates.parse_visible("16:47 16.12.2020") == datetime(2020, 12, 16, 16, 47)
    assert dates.parse_visible("21:05 GMT") is None  # a clock without a day and no reference
    assert dates.parse_visible("no clock here") is None


def test_time_only_clock_across_midnight_uses_the_unix_time():
    # "00:30" shown in CET for 23:30 UTC the day before
    unix = datetime(2021, 2, 18, 23, 30, 12, tzinfo=UTC)
    resolved = dates.reconcile(dates.parse_visible("00:30", unix), unix, time_only=True)
    assert dates.to_iso(resolved) == "2021-02-19T00:30:12+01:00"


def test_from_unix_accepts_milliseconds_and_rejects_junk():
    assert dates.from_unix("1640723580000") == datetime(2021, 12, 28, 20, 33, tzinfo=UTC)
    assert dates.from_unix("") is None
    assert dates.from_unix("abc") is None


def test_dates_after_the_fetch_are_flagged_and_dates_before_are_not():
    fetched = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    flagged = dates.future_warnings(
        {"datePublished": "2099-01-01T00:00:00+00:00", "dateModified": "2026-11-26T20:00:00+03:00"}, fetched
    )
    assert flagged == ["datePublished 2099-01-01T00:00:00+00:00 is after the fetch (2026-11-26T12:00:00+00:00)"]
    assert dates.future_warnings({"datePublished": None, "dateModified": "2026-11-27T11:00:00+00:00"}, fetched) == []
