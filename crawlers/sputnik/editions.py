"""The Sputnik edition table: the one place that knows codes, names, languages and hosts.

Each edition lists its hosts newest first: the first is where live crawls start, the others are historical
(archived URLs such as ``de.sputniknews.com`` or ``sputniknews.com`` still resolve to their edition). Names are
the ones the site's own edition list shows (country, language in that language, language in English).

Host provenance: hosts seen on real pages or in ``docs/sputnik.md`` are first-hand; the ones marked
``# second-hand`` come from public reports of later domain moves and have not been checked against a live page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from crawlers.errors import InputError


@dataclass(frozen=True)
class SputnikEdition:
    """One language edition (site) of Sputnik."""

    code: str
    region: str
    country: str
    language: str
    language_english: str
    bcp47: str
    hosts: tuple[str, ...]

    @property
    def host(self) -> str:
        """The current host, where live crawls start."""
        return self.hosts[0]

    @property
    def home(self) -> str:
        """The current home page."""
        return f"https://{self.host}/"


def _e(code: str, region: str, country: str, language: str, english: str, bcp47: str, *hosts: str):
    return SputnikEdition(code, region, country, language, english, bcp47, hosts)


EDITIONS: tuple[SputnikEdition, ...] = (
    _e("en", "Worldwide", "International", "English", "English", "en", "sputnikglobe.com", "sputniknews.com"),
    _e(
        "es", "Worldwide", "Mundo", "Español", "Spanish", "es", "sputniknews.lat", "mundo.sputniknews.com"
    ),  # second-hand
    _e("de", "Europe", "Deutschland", "Deutsch", "German", "de", "snanews.de", "de.sputniknews.com"),
    _e(
        "fr", "Europe", "France", "Français", "French", "fr", "fr.sputniknews.africa", "fr.sputniknews.com"
    ),  # second-hand
    _e("el", "Europe", "Ελλάδα", "Ελληνικά", "Greek", "el", "sputniknews.gr"),
    _e("it", "Europe", "Italia", "Italiano", "Italian", "it", "it.sputniknews.com"),
    _e("cs", "Europe", "Česká republika", "Čeština", "Czech", "cs", "cz.sputniknews.com"),
    _e("pl", "Europe", "Polska", "Polski", "Polish", "pl", "pl.sputniknews.com"),
    _e("sr", "Europe", "Србиjа", "Српски", "Serbian", "sr", "rs.sputniknews.com"),
    _e("lv", "Europe", "Latvija", "Latviešu", "Latvian", "lv", "sputniknewslv.com"),
    _e("lt", "Europe", "Lietuva", "Lietuvių", "Lithuanian", "lt", "sputniknews.lt"),
    _e("md", "Europe", "Moldova", "Moldovenească", "Moldavian", "ro-MD", "sputnik.md"),
    _e("be", "Europe", "Беларусь", "Беларускi", "Belarusian", "be", "bel.sputnik.by"),
    _e("hy", "Transcaucasia", "Արմենիա", "Հայերեն", "Armenian", "hy", "am.sputniknews.ru", "armeniasputnik.am"),
    _e("ab", "Transcaucasia", "Аҧсны", "Аҧсышәала", "Abkhaz", "ab", "sputnik-abkhazia.info"),
    _e("os", "Transcaucasia", "Хуссар Ирыстон", "Иронау", "Оssetian", "os", "sputnik-ossetia.com"),
    _e("ka", "Transcaucasia", "საქართველო", "ქართული", "Georgian", "ka", "sputnik-georgia.com"),
    _e("az", "Transcaucasia", "Azərbaycan", "Аzərbaycanca", "Azerbaijani", "az", "sputnik.az"),
    _e(
        "ar", "Middle East", "Sputnik عربي", "Arabic", "Arabic", "ar", "sputnikarabic.ae", "arabic.sputniknews.com"
    ),  # second-hand
    _e(
        "tr", "Middle East", "Türkiye", "Türkçe", "Turkish", "tr", "anlatilaninotesi.com.tr", "tr.sputniknews.com"
    ),  # second-hand
    _e("fa", "Middle East", "Sputnik ایران", "Persian", "Persian", "fa", "ir.sputniknews.com"),
    _e("prs", "Middle East", "Sputnik افغانستان", "Dari", "Dari", "fa-AF", "af.sputniknews.com"),
    _e("kk", "Central Asia", "Қазақстан", "Қазақ тілі", "Kazakh", "kk", "sputnik.kz", "sputniknews.kz"),  # second-hand
    _e("ky", "Central Asia", "Кыргызстан", "Кыргызча", "Kyrgyz", "ky", "sputnik.kg", "ru.sputnik.kg"),
    _e("uz", "Central Asia", "Oʻzbekiston", "Ўзбекча", "Uzbek", "uz", "uz.sputniknews.ru", "oz.sputniknews-uz.com"),
    _e("tg", "Central Asia", "Тоҷикистон", "Тоҷикӣ", "Tajik", "tg", "sputnik-tj.com"),
    _e("vi", "East & Southeast Asia", "Việt Nam", "Tiếng Việt", "Vietnamese", "vi", "vn.sputniknews.com"),
    _e(
        "ja", "East & Southeast Asia", "日本", "日本語", "Japanese", "ja", "sputniknews.jp", "jp.sputniknews.com"
    ),  # second-hand
    _e("zh", "East & Southeast Asia", "中国", "中文", "Chinese", "zh", "sputniknews.cn"),
    _e(
        "pt",
        "South America",
        "Brasil",
        "Português",
        "Portuguese",
        "pt-BR",
        "noticiabrasil.net.br",
        "br.sputniknews.com",
    ),  # second-hand
)
DEFAULT_EDITIONS = ("en",)


class UnknownEdition(InputError):
    """An edition code or host that the table does not know."""


@cache
def _by_code() -> dict[str, SputnikEdition]:
    return {e.code: e for e in EDITIONS}


@cache
def _by_host() -> dict[str, SputnikEdition]:
    return {h: e for e in EDITIONS for h in e.hosts}


def by_code(code: str) -> SputnikEdition:
    """The edition with this code; :class:`UnknownEdition` lists the valid codes otherwise."""
    try:
        return _by_code()[code.strip().lower()]
    except KeyError:
        raise UnknownEdition(f"unknown Sputnik edition {code!r}; known: {', '.join(_by_code())}") from None


def by_host(host: str) -> SputnikEdition | None:
    """The edition serving ``host`` (current or historical, with or without ``www.``, or an image CDN host)."""
    host = host.lower().rstrip(".").split(":")[0]
    if host.startswith("www."):
        host = host[4:]
    table = _by_host()
    if host in table:
        return table[host]
    # image CDNs: cdnn1.img.sputnikglobe.com, cdn1.img.snanews.de, ...
    _, sep, rest = host.partition(".img.")
    return table.get(rest) if sep else None


def select(spec: str | Iterable[str] | None) -> list[SputnikEdition]:
    """Editions named by ``-a editions=``: ``"en,de"``, ``"all"``, or None for the default."""
    if spec is None or spec == "":
        codes: Iterable[str] = DEFAULT_EDITIONS
    elif isinstance(spec, str):
        if spec.strip().lower() == "all":
            return list(EDITIONS)
        codes = [c for c in spec.split(",") if c.strip()]
    else:
        codes = spec
    return [by_code(c) for c in codes]


def site_locale_to_bcp47(locale: str | None) -> str | None:
    """Map the site's ``en_EN`` / ``de_DE`` / ``pt_BR`` style locale to BCP 47 (``en``, ``de``, ``pt-BR``)."""
    if not locale:
        return None
    lang, _, region = locale.replace("-", "_").partition("_")
    lang, region = lang.lower(), region.upper()
    if not region or region == lang.upper():
        return lang
    return f"{lang}-{region}"
