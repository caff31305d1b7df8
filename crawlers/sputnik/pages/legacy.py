"""The old Sputnik "b-article" layout (until Dec 2020), needed to re-parse archived pages.

Its declared dates (``meta itemprop=datePublished``, ``time[datetime]``) are local wall-clock time, the metas with
a wrong ``Z``; ``analytics:p_ts`` gives the real instant and so the offset. The edition list is filled by
JavaScript, so the item's ``languageEditions`` stays empty (correct, not a defect).

One scan indexes the ``b-article*`` ``div`` blocks by class; the remaining queries run inside the article column
(``div.b-article``, the first one) instead of the whole document: in this frozen template the rubric, dates, authors,
tags and read-also links all sit there. One walk over the column indexes its ``b-article__refs*`` elements (rubric,
authors, tags, read-also lists), cheaper than one XPath scan of the column per field.
"""

from __future__ import annotations

import re

from lxml import etree

from crawlers import dates
from crawlers.items import Crop, Image
from crawlers.sputnik.pages.common import SputnikPage, organization, person
from crawlers.sputnik.pages.html import (
    Body,
    ClassIndex,
    absolute,
    first,
    is_inline,
    microdata,
    norm,
    prop,
    text_content,
    text_of,
    to_int,
    xp,
)

_PROMO = re.compile(r"^\W*>>>")  # ">>>Mehr zum Thema: …<<<": an in-text read-also link, not body text
_PROMO_FRAME = re.compile(r"^\W*>>>\s*(?:[^:]{1,25}:\s*)?|\s*<<<\W*$")
_BLOCK_TAGS = {"p": "p", "h2": "h2", "h3": "h3", "h4": "h3", "blockquote": "blockquote"}
_BLOCKS = xp('//div[contains(@class, "b-article")]')  # the one whole-document scan for the article's blocks
_H1 = xp(".//h1")
_IMG = xp(".//img")
_IMG_SRC = xp(".//img[@src]")
_LINKS = xp("descendant-or-self::a[@href]")
_ITEMS = xp("./li")
_INJECT_LINK = xp(".//*[cls(b-inject__content)]//a[@href]")
_INJECT_CONTENT = xp(".//*[cls(b-inject__content)]")
_INJECT_PHOTO = xp(".//*[cls(b-inject-foto)]")
_INJECT_MEDIA = xp(".//*[cls(b-inject__media)]")
_INJECT_CREDIT = xp(".//*[cls(b-inject__copy)]")
_DATE = xp(".//time[cls(b-article__refs-date)]")
_DATE_MODIFIED = xp('.//time[@itemprop="dateModified"]')
_REFS = "b-article__refs"  # the class prefix of the rubric, author, tag and read-also elements
_ANCHORS = xp(".//a")
_DD_LINKS = xp(".//dd//a[@href]")
_NEWS_ITEMS = xp("//li[cls(b-news__item)]")


class LegacyPage(SputnikPage):
    """Page object of the old layout."""

    layout = "legacy"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.blocks = ClassIndex(_BLOCKS(self.root))
        self.article = self.blocks.first("b-article")
        if self.article is None:
            self.article = self.root
        scope = self.blocks.first("b-article__meta")
        self.md = microdata(scope) if scope is not None else {}
        self.refs = ClassIndex(el for el in self.article.iterdescendants() if _REFS in (el.get("class") or ""))

    def body(self) -> tuple[Body, list[Image], list, list]:
        """Paragraphs, sub-headings and quotes; photo injects become images, linked injects inline cards and
        ">>>Mehr zum Thema: …<<<" lines read-also links (all kept out of the text)."""
        body = Body(self.url)
        images: list[Image] = []
        cards: list = []
        promos: list = []
        container = self.blocks.first("b-article__text")
        if container is None:
            return body, images, cards, promos
        run: list = [container.text] if container.text else []
        for child in container:
            if not isinstance(child.tag, str):
                continue
            if is_inline(child):
                run.append(child)
            else:
                self._flush(run, body, promos)
                run = []
                self._block(child, body, images, cards, promos)
            if child.tail:
                run.append(child.tail)
        self._flush(run, body, promos)
        return body, images, cards, promos

    def _flush(self, run: list, body: Body, promos: list, tag: str = "p") -> None:
        text = "".join(n if isinstance(n, str) else text_content(n) for n in run)
        if _PROMO.match(text):  # no need to normalize: whitespace and zero-width spaces are \W already
            anchors = [a for n in run if not isinstance(n, str) for a in _LINKS(n)]
            promos.extend((absolute(a.get("href"), self.url), _promo_title(text_of(a)), None, None) for a in anchors)
        else:
            body.add_run(run, tag)

    def _block(self, child, body: Body, images: list[Image], cards: list, promos: list) -> None:
        classes = child.get("class") or ""
        if "b-inject" in classes:
            link = first(child, _INJECT_LINK)
            if link is not None:  # a linked inject is an inline card; its picture is the card's
                media = first(child, _INJECT_MEDIA)
                img = first(media, _IMG) if media is not None else None
                caption = img.get("title") or img.get("alt") if img is not None else None
                image = self._inject_image(child, media, img, norm(caption or "") or None)
                cards.append((absolute(link.get("href"), self.url), text_of(link), None, None, image))
            photo = first(child, _INJECT_PHOTO)
            img = first(photo, _IMG) if photo is not None else None
            image = self._inject_image(child, photo, img, text_of(first(child, _INJECT_CONTENT)))
            if image:
                images.append(image)
        elif "b-disclaimer" in classes or "b-banner" in classes:
            return
        elif child.tag in _BLOCK_TAGS:
            self._flush([child], body, promos, _BLOCK_TAGS[child.tag])
        elif child.tag in ("ul", "ol"):
            for item in _ITEMS(child):
                body.add(item)

    def dates(self) -> tuple[dict, object]:
        """Published from the metas (wall clock, wrong ``Z``) or ``time[datetime]``, offset from ``analytics:p_ts``."""
        unix = self.unix_published()
        published_raw = self.meta_first("datepublished", "pubdate") or _attr(first(self.article, _DATE), "datetime")
        published_parsed = dates.parse_iso_like(published_raw)
        published = dates.reconcile(published_parsed, unix)
        if published_parsed is not None and published is not None and published != published_parsed:
            self.warnings.append(f"published date {published_raw!r} is local time with a wrong offset; corrected")
        modified_raw = self.meta_first("datemodified", "lastmod") or _attr(
            first(self.article, _DATE_MODIFIED), "datetime"
        )
        modified = dates.reconcile_sibling(dates.parse_iso_like(modified_raw), published_parsed, published)
        return {
            "datePublished": dates.to_iso(published),
            "datePublishedRaw": published_raw,
            "dateModified": dates.to_iso(modified),
            "dateModifiedRaw": modified_raw if modified else None,
        }, published

    def main_image(self) -> Image | None:
        """The header image, its alt text as caption, the header credit, and the microdata crops."""
        img = self.blocks.first("b-article__header", _IMG_SRC)
        if img is None:
            return None
        crops = [Crop(url=u) for u in (absolute(v, self.url) for v in self.md.get("image", []) if isinstance(v, str))]
        return Image(
            url=absolute(img.get("src"), self.url),
            caption=norm(img.get("alt")) or None,
            credit=text_of(self.blocks.first("b-article__header-copy")),
            alt=img.get("alt"),
            crops=[c for c in crops if c.url],
        )

    def _inject_image(self, inject, frame, img, caption: str | None) -> Image | None:
        """The picture of an inject: its lazy-loaded ``data-src`` (the ``src`` is a placeholder), the inject's credit.

        None for a frame without a source (no ``data-src``, no img).
        """
        src = next((el.get("data-src") for el in (frame, img) if el is not None and el.get("data-src")), None)
        if not src:
            return None
        return Image(
            url=absolute(src, self.url),
            caption=caption,
            credit=text_of(first(inject, _INJECT_CREDIT)),
            alt=img.get("alt") if img is not None else None,
            width=to_int(img.get("width")) if img is not None else None,
            height=to_int(img.get("height")) if img is not None else None,
        )

    def newsfeed(self) -> list:
        """The sidebar newsfeed (``li.b-news__item``). Its "08/12 13:52" has neither year nor zone: raw only."""
        entries = []
        for item in _NEWS_ITEMS(self.root):
            link = next((a for a in item.iterchildren("a") if a.get("href") is not None), None)
            if link is not None:
                raw = text_of(ClassIndex(item.iterdescendants()).first("b-news__time"))
                entries.append((absolute(link.get("href"), self.url), text_of(link), raw, None))
        return entries

    def fields(self) -> dict:
        """Every layout-specific field of the item."""
        body, body_images, cards, promos = self.body()
        date_fields, _ = self.dates()
        author_links = _inside(self.refs.all("b-article__refs-author"), _ANCHORS, tag="div")
        authors = [person(text_of(a) or "", absolute(a.get("href"), self.url)) for a in author_links]
        authors = [a for a in authors if a]
        author_org = organization(prop(self.md, "author"), self.url)
        main = self.main_image()
        read_also_links = _inside(self.refs.all("b-article__refs-item"), _DD_LINKS, tag="dl")
        read_also = [(absolute(a.get("href"), self.url), text_of(a), None, None) for a in read_also_links]
        publisher = organization(prop(self.md, "publisher"), self.url)
        return {
            "headline": text_of(self.blocks.first("b-article__header-title", _H1)) or self.meta_first("og:title"),
            "description": text_of(self.blocks.first("b-article__lead"))
            or self.meta_first("og:description", "description"),
            "articleBody": body.plain,
            "articleBodyHtml": body.cleaned_html,
            **date_fields,
            "authors": authors,
            "sourceCredit": self.source_credit_from(body) or (author_org.name if author_org and not authors else None),
            "articleSection": text_of(_first_tagged(self.refs.all("b-article__refs-rubric"), "a"))
            or self.meta_first("analytics:rubric"),
            "tags": self.tag_links(_inside(self.refs.all("b-article__refs-tags"), _ANCHORS)),
            "mainImage": main,
            "images": ([main] if main else []) + body_images,
            "publisher": publisher,
            "related": self.related_links("inlineCard", cards)
            + self.related_links("readAlso", promos + read_also)
            + self.related_links("newsfeed", self.newsfeed()),
        }


def _promo_title(text: str | None) -> str | None:
    """ ">>>Mehr zum Thema: Title<<<" -> "Title"."""
    return _PROMO_FRAME.sub("", text or "") or None


def _inside(containers: list, xpath: etree.XPath, tag: str | None = None) -> list:
    """What ``xpath`` (``.//…``) finds inside the containers (those of this tag, if given), as the single XPath
    ``.//tag[cls(…)]//…`` would: in document order, each node once. The containers come in document order, so a
    nested one can only sit in the last container kept, and finds nothing that one has not found."""
    found: list = []
    outer = None
    for el in containers:
        if (tag is None or el.tag == tag) and (outer is None or outer not in el.iterancestors()):
            found.extend(xpath(el))
            outer = el
    return found


def _first_tagged(elements: list, tag: str):
    """The first of these elements with this tag, or None."""
    return next((el for el in elements if el.tag == tag), None)


def _attr(node, name: str) -> str | None:
    return node.get(name) or None if node is not None else None
