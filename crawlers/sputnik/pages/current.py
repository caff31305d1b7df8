"""The current Sputnik platform layout (2020/21 onward): ``article__*`` blocks, ``lenta__*`` newsfeed, hidden microdata.

Sources, best first (see docs/sputnik.md): visible header and body blocks for text; the hidden microdata block
(``div.article__meta``) for dates, people, publisher and image crops; ``<head>`` metas as fallbacks. The
microdata ``articleBody`` (glued, no paragraph breaks) and ``speakable`` are never used.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from crawlers import dates
from crawlers.items import Crop, Image, LanguageEdition, Link, Person
from crawlers.sputnik import editions
from crawlers.sputnik.pages.common import SputnikPage, organization, person, strip_dateline
from crawlers.sputnik.pages.html import Body, ClassIndex, absolute, first, microdata, norm, prop, text_of, to_int, xp
from crawlers.sputnik.pages.newsfeed import entry_instant, parse_newsfeed

_TEXT_BLOCKS = {"text", "list"}
_DROPPED_BLOCKS = {"banner", "article", "photo", "media", "video", "social", "embed", "widget", "infographics"}
_ARTICLE_UP = xp("ancestor-or-self::div[cls(article)]")
_ARTICLE_ANY = xp("//div[cls(article)]")
_MICRODATA_ANY = xp('//*[@itemscope][contains(@itemtype, "Article")]')
_SECOND_TITLE = xp(".//h1[cls(article__second-title)]")
_TITLE_H1 = xp(".//h1[cls(article__title)]")
_H2 = xp(".//*[cls(article__h2)]")
_HEADING = xp(".//h2|.//h3")
_QUOTE = xp(".//*[cls(article__quote-text)]")
_INCISION_TITLE = xp(".//*[cls(article__incision-title)]")
_INCISION_TEXT = xp(".//*[cls(article__incision-text)]")
_TEXT_CHILD = xp("./div[cls(article__text)]")
_TEXT = xp(".//*[cls(article__text)]")
_MEDIA = xp(".//div[cls(media)]")
_PARAGRAPHS = xp("./p|./div/p|./ul/li|./ol/li")
_CARD_LINK = xp(".//a[cls(article__article-link)][@href]")
_LINK = xp(".//a[@href]")
_CARD_TITLE = xp(".//*[cls(article__article-title)]")
_CARD_DATE = xp(".//*[cls(elem-info__date)]")
_IMG = xp(".//img[@src]")
_PHOTO_CREDIT = xp(".//*[cls(photoview__copyright)]")
_PHOTO_CAPTION = xp(".//*[cls(photoview__desc-text)]")
_UNIXTIME = xp(".//*[@data-unixtime]")
_INFO_MODIFIED = xp(".//*[cls(article__info-date-modified)]")
_AUTHOR_NAME = xp(".//*[cls(article__author-name)]")
_BREADCRUMBS = xp('//li[@itemprop="itemListElement"]')
_TAGS = xp(".//ul[cls(tags)]//a[cls(tag__text)] | .//div[cls(article__tags)]//a")


class CurrentPage(SputnikPage):
    """Page object of the current layout."""

    layout = "current"

    def __init__(self, *args, anchor=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        start = anchor if anchor is not None else self.root
        self.article = first(start, _ARTICLE_UP, _ARTICLE_ANY, default=self.root)
        self.divs = ClassIndex(self.article.iterdescendants("div"))  # the article's blocks, by class
        self.lenta, self.lang_regions = _page_furniture(self.root)
        metas = (div for div in self.divs.all("article__meta") if div.get("itemscope") is not None)
        scope = next(metas, None)
        if scope is None:
            scope = first(self.root, _MICRODATA_ANY)
        self.md = microdata(scope) if scope is not None else {}
        if scope is None:
            self.warnings.append("no schema.org microdata block: fields taken from the visible page and <head>")

    def _text(self, xpath) -> str | None:
        return text_of(first(self.article, xpath))

    # --- text ---------------------------------------------------------------------------------------------

    def headline(self) -> tuple[str | None, str | None]:
        """(headline, alternativeHeadline): RIA style pages put the headline in a div and a second one in h1."""
        top = text_of(self.divs.first("article__title"))
        second = self._text(_SECOND_TITLE)
        main = top or self._text(_TITLE_H1) or prop(self.md, "headline")
        main = main or self.meta_first("og:title")
        alternative = second or self.meta_first("og:title")
        return main, (alternative if alternative and alternative != main else None)

    def blocks(self) -> list:
        """The ``div.article__block`` children of ``div.article__body``, in document order."""
        return [block for block in self.divs.all("article__block") if _has_class(block.getparent(), "article__body")]

    def body(self) -> tuple[Body, list[Image], list]:
        """Body blocks in order; also the images and inline cards met on the way (kept out of the text)."""
        body = Body(self.url)
        announce = self.divs.first("article__announce-text")
        if announce is not None:  # the opening paragraph ("UNITED NATIONS (Sputnik) - …"), shown above the blocks
            body.add(announce)
        images: list[Image] = []
        cards = []
        for block in self.blocks():
            kind = block.get("data-type", "")
            if kind == "article":
                cards.append(self._card(block))
            elif kind in ("h2", "h3") or first(block, _H2) is not None:
                heading = first(block, _H2, _HEADING, default=block)
                body.add(heading, kind if kind in ("h2", "h3") else "h2")
            elif kind == "quote":
                body.add(first(block, _QUOTE, default=block), "blockquote")
            elif kind == "incision":
                body.add(first(block, _INCISION_TITLE), "h3")
                self._add_paragraphs(body, first(block, _INCISION_TEXT))
            elif kind in _TEXT_BLOCKS or first(block, _TEXT_CHILD) is not None:
                self._add_paragraphs(body, first(block, _TEXT, default=block))
            elif kind not in _DROPPED_BLOCKS:
                self.warnings.append(f"body block of unknown type {kind!r} skipped")
            if kind != "article":
                images.extend(self._image(media) for media in _MEDIA(block))
        return body, [i for i in images if i], cards

    @staticmethod
    def _add_paragraphs(body: Body, node) -> None:
        if node is None:
            return
        paragraphs = _PARAGRAPHS(node)
        for paragraph in paragraphs or [node]:
            body.add(paragraph)

    def _card(self, block):
        link = first(block, _CARD_LINK, _LINK)
        title = text_of(first(block, _CARD_TITLE))
        date_el = first(block, _CARD_DATE)
        raw = text_of(date_el)
        unixtime = date_el.get("data-unixtime") if date_el is not None else None
        url = absolute(link.get("href"), self.url) if link is not None else None
        return url, title, raw, (raw, unixtime), self._image(block)

    # --- images -------------------------------------------------------------------------------------------

    def _image(self, media) -> Image | None:
        img = first(media, _IMG)
        if img is None:
            return None
        credit = text_of(first(media, _PHOTO_CREDIT))
        return Image(
            url=absolute(img.get("src"), self.url),
            caption=text_of(first(media, _PHOTO_CAPTION)) or img.get("title"),
            credit=credit,
            alt=img.get("alt"),
            width=to_int(img.get("width")),
            height=to_int(img.get("height")),
        )

    def crops(self) -> list[Crop]:
        """The microdata ImageObjects: every crop of the lead image the page declares."""
        crops = []
        for item in self.md.get("image", []):
            if isinstance(item, str):
                continue
            props = microdata(item)
            url = absolute(prop(props, "url") or prop(props, "contentUrl"), self.url)
            if url:
                crops.append(Crop(url=url, width=to_int(prop(props, "width")), height=to_int(prop(props, "height"))))
        return crops

    # --- dates, people ------------------------------------------------------------------------------------

    def dates(self) -> tuple[dict, object]:
        """(date fields, published instant); offsets checked against the unix time."""
        info = self.divs.first("article__info-date", _UNIXTIME)
        unix = self.unix_published() or dates.from_unix(info.get("data-unixtime") if info is not None else None)
        published_raw = prop(self.md, "datePublished") or self.meta_first("article:published_time")
        published_parsed = dates.parse_iso_like(published_raw)
        if published_parsed is None and info is not None:
            published_raw = text_of(info)
            published_parsed = dates.parse_visible(published_raw)
        published = dates.reconcile(published_parsed, unix)
        if published_parsed is not None and published is not None and published != published_parsed:
            self.warnings.append(f"published date {published_raw!r} disagrees with its unix time; offset corrected")
        modified_raw = prop(self.md, "dateModified") or self.meta_first("article:modified_time")
        modified_parsed = dates.parse_iso_like(modified_raw)
        if modified_parsed is None:
            modified_raw = self._text(_INFO_MODIFIED)
            modified_parsed = dates.parse_visible(modified_raw, published)
        modified = dates.reconcile_sibling(modified_parsed, published_parsed, published)
        return {
            "datePublished": dates.to_iso(published),
            "datePublishedRaw": published_raw,
            "dateModified": dates.to_iso(modified),
            "dateModifiedRaw": modified_raw if modified else None,
        }, published

    def authors(self) -> tuple[list[Person], str | None]:
        """Persons from the microdata (author, else creator) or the author card; an Organization author is a credit."""
        found: list[Person] = []
        credit = None
        for item in self.md.get("author") or self.md.get("creator") or []:
            if isinstance(item, str):
                continue
            props = microdata(item)
            if "Organization" in (item.get("itemtype") or ""):
                credit = credit or prop(props, "name")
            elif prop(props, "name"):
                found.append(person(prop(props, "name"), absolute(prop(props, "url"), self.url)))
        if not found:
            for card in self.divs.all("article__author-item"):
                link = first(card, _LINK)
                name = text_of(first(card, _AUTHOR_NAME))
                if name:
                    found.append(person(name, absolute(link.get("href"), self.url) if link is not None else None))
        if not found and self.meta_first("analytics:author"):
            found = [person(n, None) for n in self.meta_first("analytics:author").split(",")]
        unique = {p.name: p for p in reversed([p for p in found if p])}
        return [p for p in found if p and unique.get(p.name) is p], credit

    # --- page furniture -----------------------------------------------------------------------------------

    def breadcrumbs(self) -> list[Link]:
        """The schema.org BreadcrumbList (``li[itemprop=itemListElement]``), in order."""
        crumbs = []
        for item in _BREADCRUMBS(self.root):
            props = microdata(item)
            name = prop(props, "name")
            if name:
                crumbs.append(Link(name=norm(name), url=absolute(prop(props, "item") or prop(props, "url"), self.url)))
        return crumbs

    def language_editions(self) -> list[LanguageEdition]:
        """The edition list (region headings, each with country / language / English language name)."""
        found = []
        for region in self.lang_regions:
            inside = ClassIndex(region.iterdescendants())  # one walk instead of two .//*[cls()] scans per region
            region_name = text_of(inside.first("lang-select__region-title"))
            for entry in inside.all("lang-select__item"):
                parts = ClassIndex(entry.iter())
                country = text_of(parts.first("lang-select__item-country"))
                english = text_of(parts.first("lang-select__item-english"))
                url = absolute(entry.get("href"), self.url)
                found.append(
                    LanguageEdition(
                        code=_edition_code(url, country, english),
                        region=region_name,
                        country=country,
                        language=text_of(parts.first("lang-select__item-language")),
                        languageEnglish=english,
                        url=url,
                    )
                )
        return found

    def fields(self) -> dict:
        """Every layout-specific field of the item."""
        headline, alternative = self.headline()
        body, body_images, cards = self.body()
        date_fields, published = self.dates()
        authors, credit = self.authors()
        announce = self.divs.first("article__announce", _MEDIA)
        main = self._image(announce) if announce is not None else None
        if main is not None:
            main.crops = self.crops()
        tags = self.tag_links(_TAGS(self.article))
        if not tags:
            tags = [Link(name=t) for t in self.meta.get("article:tag", [])]
        breadcrumbs = self.breadcrumbs()
        related = self.related_links(
            "inlineCard",
            [(url, title, raw, entry_instant(*when, published), image) for url, title, raw, when, image in cards],
        )
        related += parse_newsfeed(self.lenta, self.url, published) if self.lenta is not None else []
        return {
            "headline": headline,
            "alternativeHeadline": alternative,
            "description": strip_dateline(text_of(self.divs.first("article__announce-text")))
            or prop(self.md, "description")
            or self.meta_first("og:description", "description"),
            "articleBody": body.plain,
            "articleBodyHtml": body.cleaned_html,
            **date_fields,
            "authors": authors,
            "sourceCredit": self.source_credit_from(body) or credit,
            "articleSection": self.meta_first("article:section", "analytics:rubric")
            or (breadcrumbs[1].name if len(breadcrumbs) > 2 else None),
            "tags": tags,
            "mainImage": main,
            "images": ([main] if main else []) + body_images,
            "publisher": organization(prop(self.md, "publisher"), self.url),
            "copyrightHolder": organization(prop(self.md, "copyrightHolder"), self.url),
            "copyrightYear": to_int(prop(self.md, "copyrightYear")),
            "genre": prop(self.md, "genre"),
            "discussionUrl": absolute(prop(self.md, "discussionUrl"), self.url),
            "breadcrumbs": breadcrumbs,
            "related": related,
            "languageEditions": self.language_editions(),
            "inLanguage": editions.site_locale_to_bcp47(prop(self.md, "inLanguage")),
        }


def _page_furniture(root) -> tuple:
    """(the newsfeed: ``div#widgetLenta``, else the first ``div.lenta``; the edition list's ``div.lang-select__region``
    blocks): one walk over the page's divs that splits only the class attributes that can match."""
    by_id = by_class = None
    regions = []
    for div in root.iter("div"):
        if by_id is None and div.get("id") == "widgetLenta":
            by_id = div
        classes = div.get("class")
        if classes and ("lenta" in classes or "lang-select__region" in classes):
            tokens = classes.split()
            if by_class is None and "lenta" in tokens:
                by_class = div
            if "lang-select__region" in tokens:
                regions.append(div)
    return (by_id if by_id is not None else by_class), regions


def _has_class(node, token: str) -> bool:
    """True for a ``div`` carrying this class token."""
    return node is not None and node.tag == "div" and token in (node.get("class") or "").split()


@lru_cache(maxsize=256)
def _edition_code(url: str | None, country: str | None, english: str | None) -> str | None:
    """The edition table's code for a listed edition: by its link's host, else by its names (every page of an
    edition lists the same ones: cached)."""
    if url:
        found = editions.by_host(urlsplit(url).hostname or "")
        if found:
            return found.code
    for edition in editions.EDITIONS:
        if edition.country == country and edition.language_english == english:
            return edition.code
    return None
