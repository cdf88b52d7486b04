"""Factor tables as data, and lookup by inventory year.

Every conversion or emission factor citycarbon uses is a row of a CSV under ``data/factors`` (one file
per family, each opening with ``#`` banner lines naming its source); none is a literal in code. The row
format is documented in ``docs/architecture.md`` and ``docs/factors.md``::

    factor_id, kind, factor_set, key, region, value, unit, year_from, year_to, data_year,
    source, document, status, flag, notes

Contract
--------
* :class:`FactorTable` validates every row on construction: unique ``factor_id``, a known ``kind`` and
  ``status``, a numeric ``value``, a unit that :mod:`citycarbon.units` parses and whose dimension fits the
  kind, integer years with ``year_from <= year_to``, a codelist fuel as ``key`` for the fuel-component
  kinds, a ``notes`` text for every ``estimate`` (it states the method), and no two rows that a lookup
  could not tell apart. Bad rows raise :class:`~citycarbon.errors.InputError` naming file, row and field.
* :meth:`FactorTable.load` reads the shipped files plus optional office files; an office row with the
  same ``factor_id`` as a shipped row replaces it, new ids are added.
* :meth:`FactorTable.lookup` picks the row for an inventory year (rules in its docstring). The returned
  row is the table's own row, so a caller records exactly what it used (``FactorRow.to_dict``) and can
  tell a fallback from an exact match with :meth:`FactorRow.covers`.
* :meth:`FactorTable.fuel_co2_factor` derives a fuel's CO2 factor as NCV × CC × OF × 44/12
  (IPCC 2006 Guidelines Vol. 2 Ch. 2 Eq. 2.1 with Ch. 1 Tables 1.2/1.3; 省级温室气体清单编制指南(试行)
  2011; GB/T 32151 / NDRC enterprise guidelines), with pint units, from the components of one factor set.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from citycarbon.codelists import codes, nearest
from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.units import UnitError, conversion_factor, convert, is_unit, same_dimension

__all__ = [
    "CO2_PER_C",
    "COLUMNS",
    "FACTOR_STATUSES",
    "FUEL_KINDS",
    "KINDS",
    "SET_PRIORITY",
    "DerivedFactor",
    "FactorNotFound",
    "FactorRow",
    "FactorTable",
    "Fallback",
    "grid_region_names",
    "load_factors",
]

COLUMNS: tuple[str, ...] = (
    "factor_id", "kind", "factor_set", "key", "region", "value", "unit", "year_from", "year_to",
    "data_year", "source", "document", "status", "flag", "notes",
)
_REQUIRED = ("factor_id", "kind", "factor_set", "key", "value", "unit", "source", "status")
_YEARS = ("year_from", "year_to", "data_year")

#: official = flag V (seen in an official text), secondary = V*, unverified = UNVERIFIED (recalled),
#: estimate = citycarbon's own estimate (method in ``notes``). Ordered from strongest to weakest.
FACTOR_STATUSES: tuple[str, ...] = ("official", "secondary", "unverified", "estimate")

#: Each kind and the reference units its values must share a dimension with.
_KIND_UNITS: dict[str, tuple[str, ...]] = {
    "standard_coal": ("kgce/kg", "kgce/m3", "kgce/kWh"),  # kgce per physical unit (GB/T 2589)
    "ncv": ("kJ/kg", "kJ/m3"),  # net calorific value, per mass or per volume
    "carbon_content": ("t/TJ",),  # tonnes of carbon per TJ
    "oxidation": ("dimensionless",),  # oxidation fraction
    "grid_ef": ("t/MWh",),  # t CO2 per MWh
    "heat_ef": ("t/GJ",),  # t CO2 per GJ
    "coal_rate": ("gce/kWh",),  # thermal-power coal consumption rate
    "process_ef": ("t/t",),  # t CO2 per t product
    "grid_nonfossil_share": ("dimensionless",),  # share of non-fossil generation
}
KINDS: tuple[str, ...] = tuple(_KIND_UNITS)
#: kinds whose key must be a fuel of ``data/codelists/fuels.csv``
FUEL_KINDS: tuple[str, ...] = ("ncv", "carbon_content", "oxidation")

#: When a lookup names no factor_set and several sets hold the key, the first set in this order wins
#: (sets not listed come after, alphabetically). This makes defaults explicit: GB/T 2589 oil-field
#: natural gas (``gbt2589_2020``) over gas-field (``gbt2589_2020_gas_field``), the MEE/NBS consumption
#: factors over the enterprise-reporting factor, and so on.
SET_PRIORITY: tuple[str, ...] = (
    "gbt2589_2020", "gbt2589_2008_annex_b", "refinery_steam_grades", "gbt2589_2020_gas_field",
    "cn_provincial_2011", "ndrc_enterprise_2013", "ipcc_2006", "ipcc_2006_cn_ncv",
    "mee_nbs_electricity", "mee_enterprise_reporting", "mee_nbs_electricity_market",
    "mee_nbs_electricity_fossil", "cec_coal_rate", "ipcc_2006_ippu", "citycarbon_estimate",
)

#: Molar-mass ratio of CO2 to carbon (44/12), a physical constant, not a factor: converts carbon
#: oxidised to CO2 (IPCC 2006 Guidelines Vol. 2 Ch. 1 §1.4.2, Eq. 2.1; 省级温室气体清单编制指南).
CO2_PER_C: float = 44.0 / 12.0

CO2_FORMULA = "NCV × CC × OF × 44/12 (IPCC 2006 Vol.2 Eq. 2.1; 省级指南)"
_ROW_COLUMN = "_row"  # optional: the row number each record has in its file (for messages)
_TABLE_LABEL = "<factor table>"


@dataclass(frozen=True)
class FactorRow:
    """One factor row; years are ints, empty fields are None."""

    factor_id: str
    kind: str
    factor_set: str
    key: str
    region: str | None
    value: float
    unit: str
    year_from: int | None
    year_to: int | None
    data_year: int | None
    source: str
    document: str | None
    status: str
    flag: str | None
    notes: str | None

    def to_dict(self) -> dict:
        """All fields as a JSON-safe dict (for provenance and the CLI)."""
        return asdict(self)

    def value_in(self, unit: str) -> float:
        """The value converted to ``unit``; :class:`~citycarbon.units.UnitError` if incompatible."""
        return convert(self.value, self.unit, unit)

    def covers(self, year: int) -> bool:
        """Whether ``year`` lies in ``[year_from, year_to]`` (an empty bound is open)."""
        return (self.year_from is None or self.year_from <= year) and (
            self.year_to is None or year <= self.year_to)

    @property
    def reference_year(self) -> int | None:
        """The year used to choose a fallback: ``data_year``, else ``year_to``, else ``year_from``."""
        for year in (self.data_year, self.year_to, self.year_from):
            if year is not None:
                return year
        return None


class FactorNotFound(LookupError):
    """No row for a lookup. The message names kind, key, year, set, region and the nearest key."""

    def __init__(self, message: str, *, kind: str, key: str, year: int | None = None,
                 factor_set: str | None = None, region: str | None = None, nearest_key: str | None = None):
        super().__init__(message)
        self.kind, self.key, self.year = kind, key, year
        self.factor_set, self.region, self.nearest_key = factor_set, region, nearest_key


@dataclass(frozen=True)
class Fallback:
    """A lookup that did not find its row for the exact year and first region: what was used instead."""

    kind: str
    key: str
    year: int
    used_year: int | None
    region: str | None
    wanted_region: str | None
    factor_id: str
    text_zh: str
    text_en: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DerivedFactor:
    """CO2 emission factor of a fuel per unit of its physical quantity (``t/t`` or ``t/m3``).

    ``value`` = NCV × CC × OF × 44/12 from the component ``rows`` (ncv, carbon_content, oxidation) of one
    factor set; ``formula`` names the method.
    """

    value: float
    unit: str
    rows: tuple[FactorRow, ...]
    formula: str

    @property
    def factor_set(self) -> str:
        return self.rows[0].factor_set

    @property
    def status(self) -> str:
        """The weakest status among the component rows (see :data:`FACTOR_STATUSES`)."""
        return max((row.status for row in self.rows), key=FACTOR_STATUSES.index)

    def value_in(self, unit: str) -> float:
        return convert(self.value, self.unit, unit)

    def to_dict(self) -> dict:
        return {"value": self.value, "unit": self.unit, "formula": self.formula,
                "factor_set": self.factor_set, "status": self.status,
                "rows": [row.to_dict() for row in self.rows]}


# --------------------------------------------------------------------------------------------------
# Parsing and validating rows


def _blank(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: object) -> str | None:
    return None if _blank(value) else str(value).strip()


def _year(value: object) -> int:
    """An integer year from ``2021``, ``2021.0`` or ``"2021"``; ValueError otherwise."""
    number = float(str(value).strip())
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


def _parse_rows(frame: pd.DataFrame, sources: dict[str, str]) -> tuple[list[FactorRow], dict[str, int]]:
    """Rows of ``frame`` as :class:`FactorRow`; every problem found is raised together."""
    problems = Problems()
    missing = [c for c in COLUMNS if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in COLUMNS and c != _ROW_COLUMN]
    files = sorted(set(sources.values())) or [_TABLE_LABEL]
    file_label = files[0] if len(files) == 1 else _TABLE_LABEL
    for column in missing:
        problems.add("missing column", file=file_label, field=column)
    for column in unknown:
        problems.add("unknown column", file=file_label, field=str(column),
                     suggestion=nearest(column, list(COLUMNS)))
    problems.raise_if_any()

    fuels = set(codes("fuels"))
    rows: list[FactorRow] = []
    numbers: dict[str, int] = {}
    # a frame without file row numbers (built in code) is numbered as a sheet below a header: 2, 3, …
    for position, record in enumerate(frame.to_dict(orient="records"), start=2):
        number = position
        if _ROW_COLUMN in record and not _blank(record[_ROW_COLUMN]):
            number = int(record[_ROW_COLUMN])
        where = {"file": sources.get(_text(record["factor_id"]) or "", file_label), "row": number}
        row = _parse_record(record, where, fuels, problems)
        if row is None:
            continue
        if row.factor_id in numbers:
            problems.add(f"duplicate factor_id '{row.factor_id}' (first at row {numbers[row.factor_id]})",
                         field="factor_id", value=row.factor_id, **where)
            continue
        numbers[row.factor_id] = number
        rows.append(row)
    problems.raise_if_any()
    return rows, numbers


def _parse_record(record: dict, where: dict, fuels: set[str], problems: Problems) -> FactorRow | None:
    """One record as a :class:`FactorRow`, or None after adding its problems to ``problems``."""
    count_before = len(problems.items)
    for column in _REQUIRED:
        if _blank(record[column]):
            problems.add("empty value in a required field", field=column, **where)
    if len(problems.items) > count_before:
        return None
    kind, status = _text(record["kind"]), _text(record["status"])
    if kind not in _KIND_UNITS:
        problems.add(f"unknown kind '{kind}'", field="kind", value=kind, suggestion=nearest(kind, KINDS),
                     **where)
    if status not in FACTOR_STATUSES:
        problems.add(f"unknown status '{status}' (one of {', '.join(FACTOR_STATUSES)})", field="status",
                     value=status, suggestion=nearest(status, FACTOR_STATUSES), **where)
    try:
        value = float(str(record["value"]).strip())
        if not math.isfinite(value):
            raise ValueError(value)
    except ValueError:
        problems.add(f"value '{record['value']}' is not a finite number", field="value",
                     value=record["value"], **where)
        value = math.nan
    unit = str(record["unit"]).strip()
    if not is_unit(unit):
        problems.add(f"unit '{unit}' cannot be parsed by citycarbon.units", field="unit", value=unit, **where)
    elif kind in _KIND_UNITS and not any(same_dimension(unit, ref) for ref in _KIND_UNITS[kind]):
        problems.add(f"unit '{unit}' does not fit kind '{kind}' (expected the dimension of "
                     f"{' or '.join(_KIND_UNITS[kind])})", field="unit", value=unit, **where)
    years: dict[str, int | None] = dict.fromkeys(_YEARS)
    for column in _YEARS:
        if not _blank(record[column]):
            try:
                years[column] = _year(record[column])
            except ValueError:
                problems.add(f"'{record[column]}' is not a year", field=column, value=record[column], **where)
    if years["year_from"] is not None and years["year_to"] is not None and years["year_from"] > years["year_to"]:
        problems.add("year_from is after year_to", field="year_from", value=years["year_from"], **where)
    key = str(_text(record["key"]))
    if kind in FUEL_KINDS and key not in fuels:
        problems.add(f"key '{key}' is not a fuel of the fuels codelist", field="key", value=key,
                     suggestion=nearest(key, sorted(fuels)), **where)
    notes = _text(record["notes"])
    if status == "estimate" and notes is None:
        problems.add("an estimate must state its method in notes", field="notes", **where)
    if len(problems.items) > count_before:
        return None
    return FactorRow(
        factor_id=str(_text(record["factor_id"])), kind=str(kind), factor_set=str(_text(record["factor_set"])),
        key=key, region=_text(record["region"]), value=value, unit=unit, year_from=years["year_from"],
        year_to=years["year_to"], data_year=years["data_year"], source=str(_text(record["source"])),
        document=_text(record["document"]), status=str(status), flag=_text(record["flag"]), notes=notes)


def _check_ambiguity(rows: list[FactorRow], numbers: dict[str, int], sources: dict[str, str]) -> None:
    """Two rows of one kind/set/key/region/data_year whose year ranges overlap: a lookup can't choose."""
    groups: dict[tuple, list[FactorRow]] = {}
    for row in rows:
        groups.setdefault((row.kind, row.factor_set, row.key, row.region, row.data_year), []).append(row)
    problems = Problems()
    for group in groups.values():
        for i, first in enumerate(group):
            for second in group[i + 1:]:
                low = max(first.year_from or -math.inf, second.year_from or -math.inf)
                high = min(first.year_to or math.inf, second.year_to or math.inf)
                if low <= high:
                    problems.add(
                        f"rows '{first.factor_id}' and '{second.factor_id}' have the same kind, factor_set, "
                        "key, region and data_year and overlapping years; to replace a row reuse the "
                        f"factor_id '{first.factor_id}', else give another factor_set, data_year or year "
                        "range", file=sources.get(second.factor_id, _TABLE_LABEL),
                        row=numbers.get(second.factor_id), field="year_from", value=second.factor_id)
    problems.raise_if_any()


def _set_rank(factor_set: str) -> tuple[int, str]:
    if factor_set in SET_PRIORITY:
        return (SET_PRIORITY.index(factor_set), factor_set)
    return (len(SET_PRIORITY), factor_set)


# --------------------------------------------------------------------------------------------------
# The table


class FactorTable:
    """All factor rows, validated, with lookup by kind, key, inventory year, set and region.

    ``sources`` maps ``factor_id`` to the file the row came from (used in error messages and provenance).
    ``frame`` may carry a ``_row`` column: the row number each record has in its file.
    """

    def __init__(self, frame: pd.DataFrame, sources: dict[str, str] | None = None):
        self.sources: dict[str, str] = dict(sources or {})
        rows, numbers = _parse_rows(frame, self.sources)
        _check_ambiguity(rows, numbers, self.sources)
        self._rows: dict[str, FactorRow] = {row.factor_id: row for row in rows}
        self._by_kind_key: dict[tuple[str, str], list[FactorRow]] = {}
        for row in rows:
            self._by_kind_key.setdefault((row.kind, row.key), []).append(row)
        table = pd.DataFrame.from_records([row.to_dict() for row in rows], columns=list(COLUMNS))
        for column in _YEARS:
            table[column] = table[column].astype("Int64")
        table["value"] = table["value"].astype(float)
        self.frame: pd.DataFrame = table
        self._canonical: dict[str, bytes] = {}  # content_hash: each row's canonical text (rows never change)
        self._all_hash: str | None = None

    # ---- loading ---------------------------------------------------------------------------------

    @classmethod
    def load(cls, extra: list[str | Path] | None = None) -> FactorTable:
        """The shipped ``data/factors/*.csv`` plus office files ``extra`` (later files win).

        A row of an extra file whose ``factor_id`` is already present replaces that row; other rows are
        added. A factor_id twice in the shipped files, or twice in one extra file, is an error.
        """
        records: dict[str, dict] = {}
        sources: dict[str, str] = {}
        problems = Problems()
        shipped = sorted(data_path("factors").glob("*.csv"))
        for path in shipped:
            for record in _read_records(path):
                fid = record["factor_id"]
                if fid in records:
                    first = records[fid][_ROW_COLUMN]
                    problems.add(f"duplicate factor_id '{fid}' (also in {sources[fid]}, row {first})",
                                 file=str(path), row=record[_ROW_COLUMN], field="factor_id", value=fid)
                    continue
                records[fid], sources[fid] = record, str(path)
        problems.raise_if_any()
        for item in extra or []:
            path = Path(item)
            for record in _read_records(path):  # duplicates inside one file fail in _read_records
                fid = record["factor_id"]
                records.pop(fid, None)  # the office row replaces the shipped one
                records[fid], sources[fid] = record, str(path)
        frame = pd.DataFrame.from_records(list(records.values()), columns=[*COLUMNS, _ROW_COLUMN])
        return cls(frame, sources)

    # ---- access ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self):
        return iter(self._rows.values())

    def row(self, factor_id: str) -> FactorRow:
        """The row with ``factor_id``; :class:`FactorNotFound` (with the nearest id) otherwise."""
        if factor_id in self._rows:
            return self._rows[factor_id]
        suggestion = nearest(factor_id, list(self._rows))
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        raise FactorNotFound(f"no factor with factor_id '{factor_id}'{hint}", kind="", key=factor_id,
                             nearest_key=suggestion)

    def lookup(self, kind: str, key: str, year: int, *, factor_set: str | None = None,
               region: str | None = None) -> FactorRow:
        """The row of ``kind``/``key`` for inventory ``year``.

        Candidates: rows of that kind and key, of ``factor_set`` if given, and of ``region`` if given
        (``region=None`` means the national/standard value: rows with an empty region, else rows of
        region ``national``). Without ``factor_set`` only the first set in :data:`SET_PRIORITY` that has
        candidates is used. Then:

        1. rows whose ``[year_from, year_to]`` covers ``year``: the one with the latest ``data_year``;
        2. none covering (a fallback): the row with the latest reference year (``data_year``, else
           ``year_to``, else ``year_from``) not after ``year``, else the row with the earliest one.
           E.g. MEE/NBS grid factors exist for 2021-2023: 2019 gets the 2021 row, 2025 the 2023 row.

        The returned row is the table's row; callers record it (and ``row.covers(year)`` is False for a
        fallback). :class:`FactorNotFound` when there is no candidate.
        """
        rows = self._by_kind_key.get((kind, key), [])
        if factor_set is not None:
            rows = [r for r in rows if r.factor_set == factor_set]
        if region is None:
            rows = [r for r in rows if r.region is None] or [r for r in rows if r.region == "national"]
        else:
            rows = [r for r in rows if r.region == region]
        if not rows:
            raise self._not_found(kind, key, year, factor_set, region)
        if factor_set is None:
            best = min((r.factor_set for r in rows), key=_set_rank)
            rows = [r for r in rows if r.factor_set == best]
        covering = [r for r in rows if r.covers(year)]
        if covering:
            return max(covering, key=lambda r: (r.data_year is not None, r.data_year or 0))
        # No row covers the year, so every row has a bound and hence a reference year.
        dated = [(r.reference_year, r) for r in rows if r.reference_year is not None]
        earlier = [item for item in dated if item[0] <= year]
        if earlier:
            return max(earlier, key=lambda item: item[0])[1]
        return min(dated, key=lambda item: item[0])[1]

    def lookup_first(self, kind: str, key: str, year: int, *, regions: tuple[str | None, ...],
                     factor_set: str | None = None) -> FactorRow:
        """:meth:`lookup` in the first of ``regions`` that has a row (e.g. the provincial grid, then the
        regional grid); :class:`FactorNotFound` of the last region when none has one."""
        last: FactorNotFound | None = None
        for region in regions:
            try:
                return self.lookup(kind, key, year, factor_set=factor_set, region=region)
            except FactorNotFound as exc:
                last = exc
        if last is None:
            raise ValueError("lookup_first needs at least one region")
        raise last

    def _ncv_in(self, fuel: str, year: int, quantity_unit: str) -> FactorRow | None:
        """A GB/T 2589 NCV row of ``fuel`` whose unit × ``quantity_unit`` is an energy (see NCV_SETS)."""
        for factor_set in NCV_SETS:
            try:
                row = self.lookup("ncv", fuel, year, factor_set=factor_set)
            except FactorNotFound:
                continue
            try:
                if same_dimension(f"({row.unit}) * ({quantity_unit})", "kJ"):
                    return row
            except UnitError:
                continue
        return None

    def lookup_chain(self, kind: str, key: str, year: int, *, regions: tuple[str | None, ...],
                     factor_set: str | None = None,
                     names: dict[str, tuple[str, str]] | None = None) -> tuple[FactorRow, Fallback | None]:
        """The row for ``year`` along a region chain (e.g. province → regional grid → national).

        1. the first region (in chain order) with a row that *covers* ``year`` (the exact year);
        2. none covers it: among each region's :meth:`lookup` fallback, the one with the latest reference year
           not after ``year`` (ties: chain order), else the earliest reference year after it.

        Returns the row and, when it is not an exact-year row of the first region, a :class:`Fallback` whose
        zh/en text says what was used ("2023年采用2022年辽宁因子"); ``names`` maps a region to (zh, en)."""
        names = names or {}
        candidates: list[tuple[int, FactorRow]] = []
        last: FactorNotFound | None = None
        for position, region in enumerate(regions):
            try:
                row = self.lookup(kind, key, year, factor_set=factor_set, region=region)
            except FactorNotFound as exc:
                last = exc
                continue
            if row.covers(year):
                return row, (None if position == 0 else _fallback(row, kind, key, year, regions[0], names))
            candidates.append((position, row))
        if not candidates:
            if last is None:
                raise ValueError("lookup_chain needs at least one region")
            raise last
        earlier = [(p, r) for p, r in candidates if (r.reference_year or 0) <= year]
        if earlier:
            _, row = max(earlier, key=lambda item: (item[1].reference_year or 0, -item[0]))
        else:
            _, row = min(candidates, key=lambda item: (item[1].reference_year or 0, item[0]))
        return row, _fallback(row, kind, key, year, regions[0], names)

    def content_hash(self, factor_ids: list[str] | None = None) -> str:
        """SHA-256 of the factor rows (all, or ``factor_ids``) as canonical text: ``sha256:<hex>``.

        Every field of every row, in factor_id order, so the hash changes when any value, unit, year, source
        or status changes (office files included)."""
        if factor_ids is None and self._all_hash is not None:
            return self._all_hash
        ids = sorted(self._rows) if factor_ids is None else sorted(set(factor_ids))
        digest = hashlib.sha256()
        for fid in ids:
            line = self._canonical.get(fid)
            if line is None:
                row = self._rows[fid]
                line = "\x1f".join("" if v is None else str(v) for v in asdict(row).values()).encode("utf-8")
                self._canonical[fid] = line
            digest.update(line)
            digest.update(b"\n")
        text = f"sha256:{digest.hexdigest()}"
        if factor_ids is None:
            self._all_hash = text
        return text

    def _not_found(self, kind: str, key: str, year: int | None, factor_set: str | None,
                   region: str | None) -> FactorNotFound:
        text = (f"no factor of kind '{kind}' for key '{key}', year {year}, "
                f"factor_set {factor_set or '(any)'}, region {region or '(national/standard)'}")
        if kind not in _KIND_UNITS:
            suggestion = nearest(kind, KINDS)
            return FactorNotFound(text + (f"; unknown kind, did you mean '{suggestion}'?" if suggestion else
                                          f"; unknown kind (one of {', '.join(KINDS)})"),
                                  kind=kind, key=key, year=year, factor_set=factor_set, region=region)
        keys = sorted({k for (kd, k) in self._by_kind_key if kd == kind})
        suggestion = nearest(key, keys)
        if (kind, key) in self._by_kind_key:
            rows = self._by_kind_key[(kind, key)]
            sets = sorted({r.factor_set for r in rows}, key=_set_rank)
            regions = sorted({r.region or "(none)" for r in rows})
            text += f"; key '{key}' exists in factor sets {sets} and regions {regions}"
        else:
            text += f"; nearest key: '{suggestion}'" if suggestion else f"; no '{kind}' key is close"
        return FactorNotFound(text, kind=kind, key=key, year=year, factor_set=factor_set, region=region,
                              nearest_key=suggestion)

    def select(self, kind: str | None = None, factor_set: str | None = None, status: str | None = None,
               key: str | None = None) -> pd.DataFrame:
        """Rows matching every given filter (a copy of :attr:`frame`); unknown names raise InputError."""
        frame = self.frame
        problems = Problems()
        for column, value, valid in (("kind", kind, list(KINDS)),
                                     ("factor_set", factor_set, sorted(frame["factor_set"].unique())),
                                     ("status", status, list(FACTOR_STATUSES)),
                                     ("key", key, sorted(frame["key"].unique()))):
            if value is None:
                continue
            if value not in valid:
                problems.add(f"unknown {column} '{value}'", field=column, value=value,
                             suggestion=nearest(value, valid))
                continue
            frame = frame[frame[column] == value]
        problems.raise_if_any()
        return frame.reset_index(drop=True).copy()

    # ---- derived factors -------------------------------------------------------------------------

    def fuel_co2_factor(self, fuel: str, year: int, factor_set: str = "cn_provincial_2011",
                        fallback: tuple[str, ...] = ("ndrc_enterprise_2013", "ipcc_2006"),
                        quantity_unit: str | None = None) -> DerivedFactor:
        """CO2 emitted per physical unit of ``fuel``: NCV × CC × OF × 44/12.

        Method: IPCC 2006 Guidelines Vol. 2 Ch. 2 Eq. 2.1 (Tier 1/2) with the country values of
        省级温室气体清单编制指南(试行) (2011) or the NDRC enterprise guidelines (GB/T 32151.x). All three
        components come from one factor set: ``factor_set`` first, then each set of ``fallback`` in turn
        when a component is missing for this fuel. The result is ``t/t`` for fuels whose NCV is per mass
        and ``t/m3`` for NCV per volume (t CO2 per t or per m3 of fuel).

        ``quantity_unit``: the unit the fuel is measured in. When the set's NCV is per mass and the quantity
        per volume (IPCC 2006 gives natural gas in TJ/Gg; a balance gives it in m3), or the other way round,
        the NCV of GB/T 2589-2020 Annex A in the quantity's dimension replaces it (:data:`NCV_SETS`), as the
        MEE enterprise guidelines combine IPCC factors per TJ with Chinese heating values; the row used is
        in ``rows``. :class:`FactorNotFound` when no NCV fits.
        """
        missing: list[str] = []
        for chosen in dict.fromkeys((factor_set, *fallback)):
            components: list[FactorRow] = []
            for kind in FUEL_KINDS:
                try:
                    components.append(self.lookup(kind, fuel, year, factor_set=chosen))
                except FactorNotFound:
                    missing.append(f"{chosen} has no {kind}")
                    break
            else:
                derived = _derive_co2(tuple(components))
                if quantity_unit is None or _fits(derived.unit, quantity_unit):
                    return derived
                ncv = self._ncv_in(fuel, year, quantity_unit)
                if ncv is None:
                    missing.append(f"{chosen}: NCV in {components[0].unit} does not fit a quantity in "
                                   f"{quantity_unit}, and no GB/T 2589 NCV does")
                    break
                return _derive_co2((ncv, components[1], components[2]))
        keys = sorted({k for (kd, k) in self._by_kind_key if kd == "carbon_content"})
        suggestion = nearest(fuel, keys)
        hint = f"; nearest fuel with components: '{suggestion}'" if suggestion and fuel not in keys else ""
        raise FactorNotFound(f"no CO2 factor components for fuel '{fuel}', year {year}: "
                             f"{'; '.join(missing)}{hint}", kind="carbon_content", key=fuel, year=year,
                             factor_set=factor_set, nearest_key=suggestion)


#: factor sets whose NCV rows convert a quantity in another dimension (per m3 instead of per mass) to energy
NCV_SETS: tuple[str, ...] = ("gbt2589_2020", "cn_provincial_2011")


def _fits(factor_unit: str, quantity_unit: str) -> bool:
    """Whether a derived ``t/t`` or ``t/m3`` factor applies to a quantity in ``quantity_unit``."""
    try:
        return same_dimension(f"{factor_unit} * ({quantity_unit})", "t")
    except UnitError:
        return False


def _fallback(row: FactorRow, kind: str, key: str, year: int, wanted: str | None,
              names: dict[str, tuple[str, str]]) -> Fallback:
    region = row.region or "national"
    zh, en = names.get(region, (region, region))
    used_year = row.data_year if row.data_year is not None else row.reference_year
    if row.covers(year):
        text_zh = f"{year}年采用{year}年{zh}因子"
        text_en = f"{year}: {en} factor of {year} used"
    else:
        text_zh = f"{year}年采用{used_year}年{zh}因子"
        text_en = f"{year}: {en} factor of {used_year} used"
    if wanted is not None and region != wanted:
        wanted_zh, wanted_en = names.get(wanted, (wanted, wanted))
        text_zh += f"（无{wanted_zh}{year}年因子）"
        text_en += f" (no {wanted_en} factor for {year})"
    return Fallback(kind, key, year, used_year, region, wanted, row.factor_id, text_zh, text_en)


def _derive_co2(rows: tuple[FactorRow, ...]) -> DerivedFactor:
    """NCV × CC × OF × 44/12 with pint units: t CO2 per t of fuel, or per m3 when the NCV is per m3."""
    ncv, carbon, oxidation = rows
    product_unit = f"({ncv.unit}) * ({carbon.unit}) * ({oxidation.unit})"
    magnitude = ncv.value * carbon.value * oxidation.value * CO2_PER_C
    for unit in ("t/t", "t/m3"):
        try:
            return DerivedFactor(magnitude * conversion_factor(product_unit, unit), unit, rows, CO2_FORMULA)
        except UnitError:
            continue
    raise InputError(Problem(
        f"NCV unit '{ncv.unit}' × carbon-content unit '{carbon.unit}' is neither per mass nor per volume",
        field="unit", value=f"{ncv.factor_id}, {carbon.factor_id}"))


def _read_records(path: Path) -> list[dict]:
    """Records of one factor file with their file row numbers; InputError if it can't be read."""
    if not path.is_file():
        raise InputError(Problem("factor file not found", file=str(path)))
    from citycarbon.importers.csvfile import read_csv_rows

    try:  # rows numbered as a spreadsheet shows them: the banner lines and the header count, so row 2 is the first
        frame = read_csv_rows(path, str(path))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"cannot read factor file: {exc}", file=str(path))) from exc
    if "factor_id" not in frame.columns:
        raise InputError(Problem("missing column", file=str(path), field="factor_id"))
    frame = frame.assign(**{_ROW_COLUMN: [int(n) for n in frame.index]}).reset_index(drop=True)
    # Validate the file on its own first so that every message names this file and its own rows.
    sources = {str(fid): str(path) for fid in frame["factor_id"] if not _blank(fid)}
    FactorTable(frame, sources)
    records = [{k: v for k, v in rec.items() if k in COLUMNS or k == _ROW_COLUMN}
               for rec in frame.to_dict(orient="records")]
    for record in records:
        record["factor_id"] = str(record["factor_id"]).strip()
    return records


@lru_cache(maxsize=1)
def grid_region_names() -> dict[str, tuple[str, str]]:
    """(zh, en) name of each grid region code of the factor tables (``data/factors/grid_regions.yaml``)."""
    import yaml

    with open(data_path("factors/grid_regions.yaml"), encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle) or {}
    return {str(code): (str(names["zh"]), str(names["en"])) for code, names in loaded.items()}


@lru_cache(maxsize=1)
def load_factors() -> FactorTable:
    """The shipped factor table, read once per process."""
    return FactorTable.load()

