"""Date parsing and offset reconciliation, shared by every outlet.

News pages state one instant in several places that disagree about the UTC offset: a unix timestamp
(always right), a declared ISO-like string (sometimes local wall-clock time followed by a wrong ``Z``) and a visible
line ("20:33 GMT 28.12.2021", "16:47 16.12.2020", "Yesterday, 22:14 GMT", "21:05 GMT"). The rule here: the wall
clock a source shows is trusted, its offset only when a unix timestamp confirms it; otherwise the offset is derived
from the timestamp (rounded to 15 minutes), or taken from a reference instant of the same page.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

_QUARTER = 15 * 60
_MAX_OFFSET = 14 * 3600
# 20201216T1647+0100, 2020-12-16T16:47+0100, 2020-10-15T18:15:00Z, 2020-10-15T18:15, 2021-12-28T20:33:00+00:00
_ISO_LIKE = re.compile(
    r"^\s*(\d{4})-?(\d{2})-?(\d{2})[T ](\d{2}):?(\d{2})(?::?(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$", re.I
)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?:\s*(GMT|UTC))?", re.I)
_DAY = re.compile(r"(\d{1,2})[./](\d{1,2})(?:[./](\d{4}))?")
_YESTERDAY = ("yesterday", "gestern", "вчера", "ayer", "hier", "ieri", "ontem")


def to_iso(value: datetime | None) -> str | None:
    """ISO 8601 with seconds and offset (``2021-12-28T20:33:00+00:00``); None stays None."""
    return value.isoformat(timespec="seconds") if value else None


def from_unix(value: str | int | float | None) -> datetime | None:
    """A unix timestamp (seconds or milliseconds, string or number) as an aware UTC datetime."""
    try:
        seconds = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    if not 0 < seconds < 4e9:
        return None
    return datetime.fromtimestamp(seconds, UTC)


@lru_cache(maxsize=256)
def _zone(seconds: int) -> timezone:
    """The fixed-offset zone ``seconds`` east of UTC (shared: pages repeat a handful of offsets many times)."""
    return timezone(timedelta(seconds=seconds))


def _offset(sign_hhmm: str | None) -> timezone | None:
    if not sign_hhmm:
        return None
    if sign_hhmm.upper() == "Z":
        return UTC
    digits = sign_hhmm.replace(":", "")
    minutes = int(digits[1:3]) * 60 + int(digits[3:5])
    return _zone(60 * (-minutes if digits[0] == "-" else minutes))


def parse_iso_like(raw: str | None) -> datetime | None:
    """Parse ISO 8601 and the compact ``20201216T1647+0100`` form; naive when the string has no offset."""
    match = _ISO_LIKE.match(raw or "")
    if not match:
        return None
    year, month, day, hour, minute, second, tz = match.groups()
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return None
    offset = _offset(tz)
    return value.replace(tzinfo=offset) if offset else value


def offset_between(wall: datetime, instant: datetime, *, any_day: bool = False) -> timezone | None:
    """The UTC offset that makes the naive ``wall`` clock show ``instant``, rounded to 15 minutes (None if absurd).

    ``any_day``: the wall clock's date is a guess (a time-only source), so only the time of day is compared.
    """
    seconds = (wall.replace(tzinfo=UTC) - instant).total_seconds()
    if any_day:
        seconds = (seconds + 43200) % 86400 - 43200
    rounded = round(seconds / _QUARTER) * _QUARTER
    if abs(rounded) > _MAX_OFFSET or abs(seconds - rounded) > 120:
        return None
    return _zone(int(rounded))


def reconcile(
    parsed: datetime | None,
    unix: datetime | None = None,
    *,
    time_only: bool = False,
) -> datetime | None:
    """The instant a source means, with an offset checked against a unix timestamp when there is one.

    ``parsed`` keeps its wall clock; its offset stands only if ``unix`` confirms it (within two minutes). A wrong or
    missing offset is replaced by the one derived from ``unix``; without ``unix`` a naive ``parsed`` gives None.
    With nothing but ``unix``, the result is ``unix`` (UTC). ``time_only``: ``parsed`` came from a clock
    without a date, so with ``unix`` the result is ``unix`` itself, shown in the offset the clock implies.
    """
    if parsed is None:
        return unix.astimezone(UTC) if unix else None
    if unix is not None:
        if parsed.tzinfo and not time_only and abs((parsed - unix).total_seconds()) <= 120:
            return parsed
        derived = offset_between(parsed.replace(tzinfo=None), unix, any_day=time_only)
        if derived is not None:
            return unix.astimezone(derived) if time_only else parsed.replace(tzinfo=derived)
    return parsed if parsed.tzinfo else None


def parse_visible(raw: str | None, reference: datetime | None = None) -> datetime | None:
    """Parse a visible date line: ``20:33 GMT 28.12.2021``, ``16:47 16.12.2020``, ``Yesterday, 22:14 GMT``, ``21:05``.

    The first clock in the text is used (so "… (Updated: …)" reads the first date). A ``GMT``/``UTC`` clock gives an
    aware UTC value, any other a naive local wall clock. A missing day is resolved against ``reference`` (the page's
    own publication instant, read in the same zone: UTC for a GMT clock, its own wall clock otherwise); "yesterday"
    moves the day back by one. Returns None when no clock or no day can be found.
    """
    text = (raw or "").strip()
    clock = _CLOCK.search(text)
    if not clock:
        return None
    hour, minute, zone = int(clock.group(1)), int(clock.group(2)), clock.group(3)
    tz = UTC if zone else None
    day_match = _DAY.search(text, clock.end()) or _DAY.search(text[: clock.start()])
    lowered = text.lower()
    if day_match and day_match.group(3):
        day = date(int(day_match.group(3)), int(day_match.group(2)), int(day_match.group(1)))
    elif reference is not None:
        ref = reference.astimezone(tz) if tz and reference.tzinfo else reference
        day = ref.date()
        if day_match:  # day and month without a year (old newsfeed "08/12 13:52")
            day = date(day.year, int(day_match.group(2)), int(day_match.group(1)))
        elif any(word in lowered for word in _YESTERDAY):
            day -= timedelta(days=1)
    else:
        return None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def reconcile_sibling(
    parsed: datetime | None, sibling_parsed: datetime | None, sibling: datetime | None
) -> datetime | None:
    """A second date from the same kind of source (modified beside published) that has no timestamp of its own.

    Its offset is trusted only if the sibling's declared offset survived reconciliation; otherwise (or when it has
    none) it takes the sibling's reconciled offset.
    """
    if parsed is None or sibling is None:
        return parsed if parsed is not None and parsed.tzinfo else None
    if parsed.tzinfo is None or sibling_parsed is None or sibling_parsed.utcoffset() != sibling.utcoffset():
        return parsed.replace(tzinfo=sibling.tzinfo)
    return parsed


FUTURE_TOLERANCE = timedelta(days=1)  # clock skew and time zones: later than this after the fetch is implausible


def future_warnings(fields: dict, fetched_at: datetime) -> list[str]:
    """Warnings for ``datePublished`` / ``dateModified`` (ISO strings) later than the fetch allows.

    The value is kept as the page gives it (with its raw twin): a consumer decides, the item only says it is odd.
    """
    warnings = []
    for name in ("datePublished", "dateModified"):
        value = datetime.fromisoformat(fields[name]) if fields.get(name) else None
        if value is not None and value - fetched_at > FUTURE_TOLERANCE:
            warnings.append(f"{name} {fields[name]} is after the fetch ({to_iso(fetched_at)})")
    return warnings
