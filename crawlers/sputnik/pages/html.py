"""HTML helpers shared by the Sputnik page objects: decoding, compiled XPath, text, microdata, body assembly.

lxml only and plain ``etree`` elements (fast: no Scrapy, no CSS translation, no ``lxml.html`` element classes,
whose per-element Python lookup doubles the cost of every element an XPath returns). ``lxml.html`` elements, e.g.
a parsel ``Selector.root``, are accepted too: nothing here calls their extra methods.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from urllib.parse import urljoin, urlsplit

from lxml import etree
from w3lib.encoding import html_to_unicode

from crawlers.errors import UnreadablePage

_STRING = etree.XPath("string()")  # what lxml.html's text_content() runs, for any element class
_URL_UNSAFE = frozenset("\t\r\n")  # urlsplit drops these, so such hrefs take the urljoin path
_INLINE_TAGS = {"a", "b", "strong", "i", "em", "u", "sub", "sup", "br", "span", "font", "abbr", "mark", "s", "q"}
_KEEP_TAGS = {"a", "b", "strong", "i", "em", "sub", "sup", "q"}  # kept in articleBodyHtml; the rest unwrapped
_SKIP_TAGS = {"script", "style", "noscript", "svg", "iframe", "template", "button", "form", "input"}
_NON_SPACE = re.compile(r"\S")
_DOUBLE_SLASH = re.compile(r"(\"[^\"]*\"|'[^']*')|//(?=[\w*])")  # a "//" step outside string literals


def _decoded(body: bytes | str, encoding: str | None) -> tuple[str, bool]:
    """The checked text of a page, and whether ``body`` is clean UTF-8 bytes that lxml may parse as they are."""
    charset = None
    if isinstance(body, str):
        text = body
    else:
        if b"\x00" in body[:2048]:
            raise UnreadablePage("binary input (NUL bytes), not an HTML page")
        content_type = f"text/html; charset={encoding}" if encoding else None
        charset, text = html_to_unicode(content_type, body)
    # the checks of the stripped text, without copying it: \S is what str.strip() keeps (Py_UNICODE_ISSPACE)
    content = _NON_SPACE.search(text)
    if content is None:
        raise UnreadablePage("empty body")
    if text.find("<", content.start(), content.start() + 4096) < 0:
        raise UnreadablePage("no HTML markup in the input")
    replaced = text.count("\ufffd") if "\ufffd" in text else 0  # "in" is a fast search; count a slower loop
    if replaced and replaced > len(text.strip()) // 20:
        raise UnreadablePage("undecodable input (more than 5% replacement characters); pass the right encoding")
    return text, charset == "utf-8" and replaced == 0


def decode(body: bytes | str, encoding: str | None = None) -> str:
    """Text of a page: ``encoding`` (the HTTP header's charset) wins, then BOM and ``<meta charset>``, then UTF-8.

    Raises :class:`UnreadablePage` for an empty, binary or undecodable body.
    """
    return _decoded(body, encoding)[0]


def parse_page(body: bytes | str, encoding: str | None = None) -> etree._Element:
    """The document root of a page, decoded and checked as :func:`decode` does.

    Bytes that decoded as UTF-8 without a single replacement go to lxml as they are (told they are UTF-8, so a
    contradicting ``<meta charset>`` cannot win): lxml would otherwise encode the decoded text back to UTF-8 first.
    """
    text, clean_utf8 = _decoded(body, encoding)
    return parse(body, "utf-8") if clean_utf8 else parse(text)


def parse(markup: str | bytes, encoding: str | None = None) -> etree._Element:
    """The document root of text (or of bytes in ``encoding``); :class:`UnreadablePage` when lxml finds no element."""
    try:
        # a parser per call: lxml parsers must not be shared between threads, and creating one costs microseconds
        root = etree.fromstring(markup, etree.HTMLParser(collect_ids=False, encoding=encoding))
    except (etree.ParserError, ValueError) as exc:
        raise UnreadablePage(f"cannot parse as HTML: {exc}") from None
    if root is None:
        raise UnreadablePage("cannot parse as HTML: Document is empty")
    return root


def xp(expression: str) -> etree.XPath:
    """Compile an XPath once, at import time (``cls(name)`` in it expands to an exact class-token test).

    ``//name`` is compiled as ``/descendant::name``: the same nodes in the same order for the predicates used here
    (none is positional, and none may be: ``//p[1]`` and ``/descendant::p[1]`` differ), and libxml2 walks the tree
    once instead of building the ``descendant-or-self::node()`` set first (about a quarter less for a document scan).
    """
    # the cheap contains() first: the exact token test then runs on few elements
    token = '(contains(@class, "{0}") and contains(concat(" ", normalize-space(@class), " "), " {0} "))'
    expression = re.sub(r"cls\(([\w-]+)\)", lambda m: token.format(m.group(1)), expression)
    return etree.XPath(_DOUBLE_SLASH.sub(lambda m: m.group(1) or "/descendant::", expression))


def first(node, *xpaths: etree.XPath, default=None):
    """The first result of the first compiled XPath that finds anything, else ``default``."""
    for xpath in xpaths:
        found = xpath(node)
        if found:
            return found[0]
    return default


class ClassIndex:
    """Class token -> the elements carrying it (document order), among some elements, e.g. a subtree's ``iter()``.

    One pass in Python and dictionary look-ups instead of one XPath scan per field.
    """

    def __init__(self, elements) -> None:
        self.by_token: dict[str, list] = {}
        for el in elements:
            classes = el.get("class")
            if classes:
                for token in classes.split():
                    self.by_token.setdefault(token, []).append(el)

    def all(self, token: str) -> list:
        """Every indexed element with this class token."""
        return self.by_token.get(token, [])

    def first(self, token: str, xpath: etree.XPath | None = None):
        """The first element with this class token; with ``xpath``, the first thing it finds inside any of them.

        Same result as the first of ``.//div[cls(token)]`` followed by ``xpath``'s ``.//…`` steps.
        """
        for el in self.by_token.get(token, ()):
            if xpath is None:
                return el
            found = xpath(el)
            if found:
                return found[0]
        return None


def first_div_with(root, *substrings: str):
    """The first ``div`` whose class attribute contains one of these substrings (an XPath ``contains()``), or None.

    Stops at the first match, which a whole-document XPath cannot do.
    """
    for el in root.iter("div"):
        classes = el.get("class")
        if classes and any(s in classes for s in substrings):
            return el
    return None


# Control characters that are not whitespace (NUL, escape...) and zero-width spaces: never part of the text.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1b\x7f\u200b]")  # \x1c-\x1f are whitespace


def norm(text: str | None) -> str:
    """Whitespace collapsed (non-breaking spaces included) and stripped; control characters and zero-width spaces
    removed."""
    text = text or ""
    if _INVISIBLE.search(text):  # rare: a search is 5x cheaper than str.translate on every text
        text = _INVISIBLE.sub("", text)
    # str.split() splits on exactly what the regex \s matches (Unicode whitespace, \xa0 included), 3x faster
    return " ".join(text.split())


def text_content(node) -> str:
    """All the text inside an element (``lxml.html``'s ``text_content()``, for any element class).

    An element without children holds nothing but its ``.text`` (lxml joins adjacent text nodes): read directly,
    a fifth of the cost of an XPath evaluation, for the many leaf elements (dates, titles, names) read this way.
    """
    return (node.text or "") if len(node) == 0 else _STRING(node)


def text_of(node) -> str | None:
    """Normalized text content of an element (None if absent or empty); attribute values pass through ``norm``."""
    if node is None:
        return None
    value = norm(node if isinstance(node, str) else text_content(node))
    return value or None


@lru_cache(maxsize=64)
def _origin(base: str) -> str | None:
    """``https://host`` of a base URL (None unless http/https with a host); one page resolves many links against it."""
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def absolute(url: str | None, base: str) -> str | None:
    """``url`` made absolute against ``base`` (None for empty, ``#`` or javascript links); same result as urljoin."""
    url = (url or "").strip()
    if not url or url.startswith(("#", "javascript:", "mailto:")):
        return None
    if url.startswith(("https://", "http://")):
        return url
    # fast path for the common "/path": urljoin would only prepend the origin (no dot segments, no unsafe bytes)
    if url[0] == "/" and url[1:2] != "/" and "/." not in url and _URL_UNSAFE.isdisjoint(url):
        origin = _origin(base)
        if origin:
            return origin + url
    return urljoin(base, url)


def to_int(value) -> int | None:
    """An integer from text or an attribute, or None."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# --- microdata -----------------------------------------------------------------------------------------------


def _prop_value(el):
    if el.get("itemscope") is not None:
        return el
    tag = el.tag
    if tag == "meta":
        return el.get("content")
    if tag in ("a", "link"):
        return el.get("href") or text_of(el)
    if tag in ("img", "source"):
        return el.get("src")
    if tag == "time":
        return el.get("datetime") or text_of(el)
    return text_of(el)


def microdata(scope) -> dict[str, list]:
    """The properties of one ``itemscope`` element: name -> values (strings, or elements for nested items)."""
    props: dict[str, list] = {}
    stack = list(reversed(scope))  # document order: pop from the end, push children reversed
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str):
            continue
        name = el.get("itemprop")
        if name:
            for key in name.split():
                props.setdefault(key, []).append(_prop_value(el))
        if el.get("itemscope") is None:
            stack.extend(reversed(el))
    return props


def prop(props: dict[str, list], name: str):
    """The first value of a microdata property, or None."""
    values = props.get(name)
    return values[0] if values else None


# --- body ----------------------------------------------------------------------------------------------------


def _inline(node, base: str, text: list[str], html: list[str]) -> None:
    if node.text:
        text.append(node.text)
        html.append(escape(node.text, quote=False))
    for child in node:
        _element(child, base, text, html)
        if child.tail:
            text.append(child.tail)
            html.append(escape(child.tail, quote=False))


def _element(node, base: str, text: list[str], html: list[str]) -> None:
    """Render one inline element (not its tail): whitelisted tags kept, others unwrapped, scripts dropped."""
    tag = node.tag
    if not isinstance(tag, str) or tag in _SKIP_TAGS:
        return
    if tag == "br":
        text.append(" ")
        html.append("<br>")
        return
    href = absolute(node.get("href"), base) if tag == "a" else None
    keep = tag in _KEEP_TAGS and (tag != "a" or href is not None)
    if keep:
        html.append(f'<a href="{escape(href)}">' if href else f"<{tag}>")
    _inline(node, base, text, html)
    if keep:
        html.append(f"</{tag}>")


class Body:
    """The article body being assembled block by block into plain text and cleaned HTML."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.text: list[str] = []
        self.html: list[str] = []

    def add(self, node, tag: str = "p") -> None:
        """Add an element's inline content as one block (``p``, ``h2``, ``h3``, ``blockquote``); empty: skipped."""
        text: list[str] = []
        html: list[str] = []
        _inline(node, self.base, text, html)
        self._append("".join(text), "".join(html), tag)

    def add_run(self, nodes: list, tag: str = "p") -> None:
        """Add loose inline content (text strings and inline elements) as one block."""
        text: list[str] = []
        html: list[str] = []
        for node in nodes:
            if isinstance(node, str):
                text.append(node)
                html.append(escape(node, quote=False))
            else:
                _element(node, self.base, text, html)
        self._append("".join(text), "".join(html), tag)

    def _append(self, text: str, html: str, tag: str) -> None:
        plain = norm(text)
        if plain:
            self.text.append(plain)
            self.html.append(f"<{tag}>{' '.join(html.split())}</{tag}>")

    @property
    def plain(self) -> str | None:
        """Paragraphs separated by one blank line."""
        return "\n\n".join(self.text) or None

    @property
    def cleaned_html(self) -> str | None:
        """The same blocks as minimal HTML."""
        return "\n".join(self.html) or None


def is_inline(node) -> bool:
    """True for an inline element that belongs to a loose run of body text."""
    return isinstance(node.tag, str) and node.tag in _INLINE_TAGS
