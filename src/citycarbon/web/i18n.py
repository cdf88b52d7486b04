"""Languages of the web cockpit: gettext catalogs and Babel number/date formats.

Catalogs are ``web/i18n/<locale>/LC_MESSAGES/*.po`` (msgids are short English phrases): ``messages.po`` for
the platform pages and one file per feature (``pathways.po``, ``monitoring.po``, …) so features can be added
without touching each other's catalog; they are merged (a msgid defined in two files is an error). They are
compiled in memory when the web is mounted, so no build step is needed after editing a ``.po`` file. One
Jinja2 environment per locale carries that locale's translations (thread-safe: nothing is switched per
request). The default language is ``zh_CN``; ``?lang=en`` (or ``zh_CN``) sets the ``cc_lang`` cookie.

Three kinds of entries (see docs/web.md, "Adding a string or a label"):

* **Page strings**: ``_("Plan targets")`` in a template or ``gettext`` in Python; msgid = the English text.
* **Labels of identifiers** the core hands over (an indicator, a fuel, an ecosystem, a data status, an
  accounting option …): ``labels.po``, one entry per identifier with ``msgctxt`` = the kind of identifier and
  ``msgid`` = the identifier itself (``msgctxt "ecosystem" msgid "salt_marsh" msgstr "盐沼"``); read with
  :meth:`Formatter.label`. The English catalog gives the English label.
* **Texts of the core** (method descriptions, notes, problem messages of importers and validation; the API
  keeps them in English): ``msgctxt "text"`` with the exact English text, or ``msgctxt "text-pattern"`` with
  placeholders (``{dataset:dataset}: {share} of rows are estimates``: ``{name}`` matches any text,
  ``{name:number}`` a number, ``{name:kind}`` a text shown as the label of ``kind``, ``{name:text}`` a text
  translated again); read with
  :meth:`Formatter.text`.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from citycarbon.errors import Problem

I18N_DIR = Path(__file__).parent / "i18n"
LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LANG_COOKIE = "cc_lang"
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")  # times are stored in UTC and shown in Asia/Shanghai


def catalog_path(locale: str) -> Path:
    return I18N_DIR / locale / "LC_MESSAGES" / "messages.po"


def catalog_paths(locale: str) -> list[Path]:
    """Every ``.po`` file of ``locale``: ``messages.po`` first, then the feature catalogs by name."""
    main = catalog_path(locale)
    extra = sorted(p for p in main.parent.glob("*.po") if p != main)
    return [main, *extra]


def load_catalog(locale: str) -> Catalog:
    """The locale's catalogs merged into one Babel :class:`Catalog`; a msgid in two files raises ValueError."""
    merged: Catalog | None = None
    origin: dict[tuple, Path] = {}
    for path in catalog_paths(locale):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        if merged is None:
            merged = catalog
            origin = {(m.id, m.context): path for m in catalog if m.id}
            continue
        for message in catalog:
            if not message.id:
                continue
            key = (message.id, message.context)
            if key in origin:
                raise ValueError(f"msgid {message.id!r} is in both {origin[key].name} and {path.name} "
                                 f"({locale}); keep it in one catalog")
            origin[key] = path
            merged[message.id] = message
    assert merged is not None
    return merged


def load_translations(locale: str) -> Translations:
    """The locale's ``.po`` catalogs compiled to one gettext :class:`Translations` object in memory."""
    catalog = load_catalog(locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


@cache
def _translations(locale: str) -> Translations:
    return load_translations(locale if locale in LOCALES else DEFAULT_LOCALE)


def translate(locale: str, msgid: str, params: Mapping[str, object] | None = None) -> str:
    """``msgid`` in ``locale`` through the catalogs, with gettext ``%(name)s`` parameters filled in (message codes
    of :mod:`citycarbon.auth.messages`: any face may call this)."""
    text = _translations(locale).gettext(msgid)
    return text % params if params else text


def translate_problem(locale: str, problem: Problem) -> str:
    """A problem's message in ``locale`` (a coded one through the catalogs; else the "中文 / English" half)."""
    from citycarbon.auth.messages import MESSAGES

    if problem.code in MESSAGES:
        return translate(locale, MESSAGES[problem.code], problem.params or None)
    if " / " in problem.message:
        zh, en = problem.message.split(" / ", 1)
        return zh if locale.startswith("zh") else en
    return problem.message


@cache
def translations(locale: str) -> Translations:
    """The locale's compiled catalogs, read once per process (the ``.po`` files are package data)."""
    return load_translations(locale)


_BILINGUAL = re.compile(r"(.*[\u4e00-\u9fff].*?) / ([^\u4e00-\u9fff]+)", re.S)
_PLACEHOLDER = re.compile(r"\{(\w+)(?::([\w-]+))?\}")


@cache
def text_patterns(locale: str) -> tuple[tuple[re.Pattern, str, dict[str, str | None]], ...]:
    """The ``msgctxt "text-pattern"`` entries of ``locale`` as (regex of the English text, translation,
    kind of each placeholder)."""
    patterns = []
    for message in load_catalog(locale):
        if message.context != "text-pattern" or not message.id:
            continue
        if not isinstance(message.id, str):
            raise ValueError(f"{locale} catalogs: the text pattern {message.id!r} is plural; patterns are single "
                             "messages")
        kinds: dict[str, str | None] = {}
        regex, last = "", 0
        for match in _PLACEHOLDER.finditer(message.id):
            group = r"-?[0-9][0-9.,%]*" if match.group(2) == "number" else ".+?"
            regex += re.escape(message.id[last:match.start()]) + f"(?P<{match.group(1)}>{group})"
            kinds[match.group(1)] = match.group(2)
            last = match.end()
        regex += re.escape(message.id[last:])
        patterns.append((re.compile(regex + r"\Z", re.S), str(message.string), kinds))
    return tuple(patterns)


def negotiate(query_lang: str | None, cookie_lang: str | None) -> str:
    """The page language: an explicit ``?lang=`` wins, then the cookie, then zh_CN."""
    for candidate in (query_lang, cookie_lang):
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE


@cache
def catalog_keys(locale: str) -> frozenset[tuple[str | None, str]]:
    """(msgctxt, msgid) of every entry of the locale's catalogs."""
    return frozenset((m.context, m.id) for m in load_catalog(locale) if m.id and isinstance(m.id, str))


@cache
def codelist_names(codelist: str, lang: str) -> dict[str, str]:
    """``{code: name}`` of a shipped codelist (``data/codelists/<codelist>.csv``) in ``lang`` (zh or en)."""
    from citycarbon.codelists import load_codelist

    table = load_codelist(codelist)
    return {str(code): str(name) for code, name in zip(table.index, table[f"name_{lang}"], strict=True)}


#: kinds of identifiers whose labels are the shipped codelists' ``name_zh``/``name_en`` (data/codelists/)
CODELIST_KINDS = {"fuel": "fuels", "flow": "flows", "sector": "sectors", "region": "regions"}


class Formatter:
    """Numbers and dates the way readers of ``locale`` read them (Babel), with the unit shown.

    Energy is shown in 万tce (English: 10k tce), CO2 in 万tCO2, GDP in 亿元, shares in %; ``None``/NaN is shown
    as a dash.
    """

    def __init__(self, locale: str):
        self.locale = locale
        self.babel_locale = Locale.parse(locale)
        zh = locale.startswith("zh")
        self.units = {
            "tce": "万tce" if zh else "10k tce",
            "t": "万tCO₂" if zh else "10k t CO₂",
            "MW": "MW",
            "m**3": "万m³" if zh else "10k m³",
            "10^4 CNY": "亿元" if zh else "100M CNY",
            "tce/(10^4 CNY)": "tce/万元" if zh else "tce per 10k CNY",
            "t/(10^4 CNY)": "tCO₂/万元" if zh else "t CO₂ per 10k CNY",
            "kWh": "kWh",
        }

    @staticmethod
    def _missing(value: object) -> bool:
        return value is None or (isinstance(value, float) and math.isnan(value))

    # -- words -------------------------------------------------------------------------------------------------
    def gettext(self, message: str) -> str:
        return translations(self.locale).gettext(message)

    def label(self, kind: str, key: object) -> str:
        """The label of identifier ``key`` of ``kind``: the codelist's name for the kinds of
        :data:`CODELIST_KINDS` (fuel, flow, sector, region), else the catalogs (``labels.po``: msgctxt
        ``kind``, msgid ``key``); the identifier itself when neither has one (the zh_CN page test then finds
        it). ``kind-list``: a comma-separated list of identifiers of ``kind``."""
        if self._missing(key):
            return "–"
        if kind.endswith("-list"):
            return self.join(self.label(kind[:-5], k.strip()) for k in str(key).split(","))
        if kind in CODELIST_KINDS:
            name = codelist_names(CODELIST_KINDS[kind], "zh" if self.locale.startswith("zh") else "en").get(str(key))
            if name:
                return name
        return str(translations(self.locale).pgettext(kind, str(key)))  # Babel types it `str | object`

    def has_label(self, kind: str, key: object) -> bool:
        """Whether ``key`` of ``kind`` has a label (in the codelists or the catalogs)."""
        if kind in CODELIST_KINDS and str(key) in codelist_names(CODELIST_KINDS[kind], "en"):
            return True
        return (kind, str(key)) in catalog_keys(self.locale)

    def text(self, message: object) -> str:
        """A text of the core (a method, a note, a problem message) in this language: the exact text
        (msgctxt ``text``), else the first matching pattern (msgctxt ``text-pattern``), else as it is."""
        if self._missing(message) or message == "":
            return ""
        message = str(message)
        exact = str(translations(self.locale).pgettext("text", message))
        if exact != message:
            return exact
        for regex, translation, kinds in text_patterns(self.locale):
            match = regex.match(message)
            if match is None:
                continue
            values = {}
            for name, kind in kinds.items():
                value = match.group(name)
                values[name] = (self.text(value) if kind == "text" else value if kind in (None, "number")
                                else self.label(kind, value))
            return _PLACEHOLDER.sub(lambda m, shown=values: shown[m.group(1)], translation)
        bilingual = _BILINGUAL.fullmatch(message)  # the store's "中文 / English" messages: the reader's half
        if bilingual:
            return bilingual.group(1) if self.locale.startswith("zh") else bilingual.group(2)
        return message

    def record_key(self, key: object) -> str:
        """A ledger record's natural key (a JSON list such as ``[2024, "210200", "gdp_secondary", ""]``) as a
        reader reads it: the year, then each code by its codelist name or ``variable`` label, joined by ·."""
        import json

        try:
            parts = json.loads(str(key))
        except ValueError:
            return str(key)
        if not isinstance(parts, list):
            return str(key)
        shown = []
        for part in parts:
            if part in (None, ""):
                continue
            if isinstance(part, int):
                shown.append(self.year(part))
                continue
            text = str(part)
            for kind in (*CODELIST_KINDS, "variable"):
                label = self.label(kind, text)
                if label != text:
                    shown.append(label)
                    break
            else:
                shown.append(text)
        return " · ".join(shown)

    def labels(self, kind: str, keys) -> str:
        """Several identifiers of ``kind`` by their labels, joined the way the language lists things."""
        return self.join(self.label(kind, k) for k in (keys or []))

    def join(self, items) -> str:
        return ("、" if self.locale.startswith("zh") else ", ").join(str(i) for i in items)

    def option(self, value: object, kind: str = "option-value") -> str:
        """An option's value as a reader reads it: yes/no, a dash for none, labels for identifiers."""
        if isinstance(value, bool):
            return self.gettext("yes") if value else self.gettext("no")
        if self._missing(value):
            return "–"
        if isinstance(value, (list, tuple, set, frozenset)):
            return self.join(self.option(v, kind) for v in value) if value else "–"
        if isinstance(value, dict):
            return self.join(f"{self.option(k, kind)}: {self.option(v, kind)}" for k, v in value.items()) or "–"
        if isinstance(value, (int, float)):
            return str(value)
        if self.has_label(kind, value):
            return self.label(kind, value)
        return self.text(value)

    def decimal(self, value: float | None, digits: int = 1) -> str:
        if value is None or self._missing(value):
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.babel_locale)

    def percent(self, value: float | None, digits: int = 1) -> str:
        if value is None or self._missing(value):
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(value, format=pattern, locale=self.babel_locale)

    def wan(self, value: float | None, digits: int = 1) -> str:
        """A quantity in 10⁴ of its unit (万tce, 万tCO2), as the yearbooks print it."""
        return "–" if value is None or self._missing(value) else self.decimal(float(value) / 1e4, digits)

    def quantity(self, value: float | None, unit: str, digits: int = 1) -> str:
        """``value`` in ``unit`` (the tracking/accounting unit) shown with the display unit."""
        if value is None or self._missing(value):
            return "–"
        if unit in ("dimensionless", "1", ""):
            return self.percent(value, digits)
        if unit == "year":
            return str(int(value))
        if unit in ("tce", "t", "m**3"):
            return f"{self.wan(value, digits)} {self.units[unit]}"
        if unit == "10^4 CNY":
            return f"{self.decimal(float(value) / 1e4, digits)} {self.units[unit]}"
        return f"{self.decimal(value, digits)} {self.units.get(unit, unit)}"

    def datetime(self, value: datetime | str | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_datetime(value, format="yyyy-MM-dd HH:mm", tzinfo=DISPLAY_TZ, locale=self.babel_locale)

    def year(self, value: int | None) -> str:
        if value is None:
            return "–"
        return f"{value}年" if self.locale.startswith("zh") else str(value)
