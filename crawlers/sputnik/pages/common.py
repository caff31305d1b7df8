"""What both Sputnik layouts share: the ``<head>`` (meta, links), edition, identity, and assembling the item."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from crawlers import dates
from crawlers.items import (
    Alternate,
    Article,
    Edition,
    ImageRef,
    Link,
    Metadata,
    Organization,
    Person,
    RelatedLink,
)
from crawlers.sputnik import editions, urls
from crawlers.sputnik.pages.html import Body, absolute, microdata, norm, prop, text_content, to_int, xp

# "UNITED NATIONS (Sputnik) - …", "MOSKAU (SNA) – …": the agency in a dateline.
_DATELINE = re.compile(r"^[^()\n]{2,60}?\((?P<source>[^()]{2,40})\)\s*[-–—]\s")
_BYLINE_PREFIX = re.compile(r"^(?:by|von|de|par|di|от|автор)\s*:?\s+", re.I)
REQUIRED = ("headline", "articleBody", "datePublished")
_HEAD_METAS = xp("/html/head/meta[@content]")
_HEAD_LINKS = xp("/html/head/link[@href]")


def person(name_raw: str, url: str | None) -> Person | None:
    """A byline entry, cleaned of its 'By'/'Von' prefix (None when nothing is left)."""
    name = _BYLINE_PREFIX.sub("", norm(name_raw)).strip(" ,;")
    return Person(name=name, nameRaw=norm(name_raw), url=url) if name else None


def strip_dateline(text: str | None) -> str | None:
    """The lead without its dateline: "UNITED NATIONS (Sputnik) - Russia …" -> "Russia …"."""
    return _DATELINE.sub("", text, count=1) if text else text


class SputnikPage:
    """Base page object: one parsed Sputnik page plus what every layout reads the same way."""

    layout = "base"
    version = 1

    def __init__(self, root, url: str, http_status: int | None, downloaded_at: datetime | None) -> None:
        self.root = root
        self.url = url
        self.http_status = http_status
        self.downloaded_at = downloaded_at or datetime.now(UTC)
        self.warnings: list[str] = []
        self.meta: dict[str, list[str]] = {}
        for el in _HEAD_METAS(root):
            key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
            if key:
                self.meta.setdefault(key.strip().lower(), []).append(el.get("content").strip())
        self.links = [(el.get("rel", "").lower(), el) for el in _HEAD_LINKS(root)]

    # --- head ---------------------------------------------------------------------------------------------

    def meta_first(self, *names: str) -> str | None:
        """The first non-empty value among these meta names/properties."""
        for name in names:
            for value in self.meta.get(name, ()):
                if value:
                    return value
        return None

    def canonical_url(self) -> str:
        """``link rel=canonical``, else ``og:url``, else the fetched URL."""
        for rel, el in self.links:
            if rel == "canonical":
                return absolute(el.get("href"), self.url) or self.url
        return absolute(self.meta_first("og:url"), self.url) or self.url

    def alternates(self) -> list[Alternate]:
        """hreflang and AMP alternates, as declared."""
        found = []
        for rel, el in self.links:
            href = absolute(el.get("href"), self.url)
            if rel == "amphtml" and href:
                found.append(Alternate(rel="amphtml", hreflang=None, url=href))
            elif rel == "alternate" and el.get("hreflang") and href:
                found.append(Alternate(rel="alternate", hreflang=el.get("hreflang"), url=href))
        return found

    def keywords(self) -> list[str]:
        """``news_keywords`` or ``keywords``, split on commas."""
        raw = self.meta_first("news_keywords", "keywords") or ""
        return [k for k in (norm(part) for part in raw.split(",")) if k]

    def unix_published(self) -> datetime | None:
        """``analytics:p_ts``: the publication instant as a unix time (the one source always in UTC)."""
        return dates.from_unix(self.meta_first("analytics:p_ts"))

    def edition(self, canonical: str, language: str | None) -> Edition:
        """The edition from the canonical (else fetched) host; an unknown host is recorded as such, with a warning."""
        for candidate in (canonical, self.url):
            host = (urlsplit(candidate).hostname or "").lower()
            found = editions.by_host(host)
            if found:
                return Edition(code=found.code, name=found.country, host=host, language=found.bcp47)
        host = (urlsplit(self.url).hostname or "").lower()
        self.warnings.append(f"unknown Sputnik host {host!r}: edition not in the table")
        name = self.meta_first("og:site_name") or host
        return Edition(code="unknown", name=name, host=host, language=language or "und")

    def in_language(self) -> str | None:
        """BCP 47 from the page's locale (``og:locale`` ``de_DE``) or ``<html lang>``."""
        locale = self.meta_first("og:locale") or self.root.get("lang")
        return editions.site_locale_to_bcp47(locale)

    @staticmethod
    def source_credit_from(body: Body) -> str | None:
        """The agency named in the body's dateline, e.g. ``Sputnik`` in "UNITED NATIONS (Sputnik) - …"."""
        match = _DATELINE.match(body.text[0]) if body.text else None
        return norm(match.group("source")) if match else None

    def related_links(self, kind: str, entries: list[tuple]) -> list[RelatedLink]:
        """RelatedLink items of one kind from ``(url, headline, raw date, instant[, image])``, numbered from 1."""
        links = []
        for url, headline, raw, instant, *image in entries:
            if url:
                links.append(
                    RelatedLink(
                        url=url,
                        headline=headline,
                        datePublished=dates.to_iso(instant),
                        datePublishedRaw=raw,
                        kind=kind,
                        position=len(links) + 1,
                        image=image[0] if image else None,
                    )
                )
        return links

    def tag_links(self, anchors) -> list[Link]:
        """Tags from anchor elements, with absolute URLs, without duplicates."""
        tags, seen = [], set()
        for a in anchors:
            name = norm(text_content(a))
            if name and name not in seen:
                seen.add(name)
                tags.append(Link(name=name, url=absolute(a.get("href"), self.url)))
        return tags

    # --- assembly -----------------------------------------------------------------------------------------

    def fields(self) -> dict:
        """Layout-specific fields of :class:`Article`: all but identity, alternates, keywords, metadata (``inLanguage``
        optional)."""
        raise NotImplementedError

    def to_item(self) -> Article:
        """The normalized item; ``metadata.partial`` when a required part is missing."""
        canonical = self.canonical_url()
        fields = self.fields()
        language = fields.pop("inLanguage", None) or self.in_language()
        edition = self.edition(canonical, language)
        missing = [name for name in REQUIRED if not fields.get(name)]
        self.warnings.extend(f"missing {name}" for name in missing)
        self.warnings.extend(dates.future_warnings(fields, self.downloaded_at))
        return Article(
            id=urls.item_id(canonical),
            url=self.url,
            canonicalUrl=canonical,
            outlet="sputnik",
            edition=edition,
            inLanguage=language or edition.language,
            headline=fields.pop("headline", None) or "",
            alternates=self.alternates(),
            keywords=self.keywords(),
            metadata=Metadata(
                dateDownloaded=dates.to_iso(self.downloaded_at.astimezone(UTC)),
                parser=f"sputnik/{self.layout}@{self.version}",
                httpStatus=self.http_status,
                partial=bool(missing),
                warnings=self.warnings,
            ),
            **fields,
        )


def organization(item, base: str) -> Organization | None:
    """An Organization from a microdata item element (publisher, copyrightHolder, sourceOrganization)."""
    if item is None or isinstance(item, str):
        return Organization(name=norm(item)) if item else None
    props = microdata(item)
    name = prop(props, "name")
    if not name:
        return None
    logo = prop(props, "logo")
    logo_ref = None
    if logo is not None and not isinstance(logo, str):
        logo_props = microdata(logo)
        logo_url = absolute(prop(logo_props, "url") or prop(logo_props, "contentUrl"), base)
        if logo_url:
            logo_ref = ImageRef(
                url=logo_url, width=to_int(prop(logo_props, "width")), height=to_int(prop(logo_props, "height"))
            )
    elif isinstance(logo, str) and absolute(logo, base):
        logo_ref = ImageRef(url=absolute(logo, base))
    return Organization(
        name=name,
        legalName=prop(props, "legalName"),
        url=absolute(prop(props, "url"), base),
        email=prop(props, "email"),
        telephone=prop(props, "telephone"),
        logo=logo_ref,
    )
