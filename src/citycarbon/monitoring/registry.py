"""Registry of key energy-using units (重点用能单位): enterprises, metering points and products.

Contract (shared with the lake and ingest, /root/prompts/monitoring-contract.md)
--------------------------------------------------------------------------------
* ``enterprises``: ``enterprise_id, name, uscc, industry_code, region, tier, annual_budget_tce, budget_year``
  (+ optional ``annual_energy_tce``). ``uscc`` passes the GB 32100-2015 check (:mod:`.uscc`);
  ``industry_code`` is a GB/T 4754-2017 class of ``data/monitoring/industries.csv``; ``region`` a GB/T 2260
  district/county code of ``data/codelists/regions.csv``; ``tier`` 1 (≥ 10 000 tce/a) or 2 (designated,
  ≥ 5 000 tce/a), 《重点用能单位节能管理办法》 Art. 2 (``data/monitoring/key_units.yaml``).
* ``points``: ``point_id, enterprise_id, energy_type, unit, kind, multiplier, parent_point_id,
  interval_minutes, register_max, purpose``. ``energy_type`` is a row of ``data/monitoring/energy_types.csv``
  (the metered fuels, ``steam`` and ``product_output``); ``unit`` a pint unit of the same dimension as the
  type's canonical unit; ``kind`` ``interval`` | ``cumulative``; ``multiplier`` ≥ 1 (CT/PT ratio);
  a sub-meter's parent belongs to the same enterprise and carries the same energy type; ``interval_minutes``
  15 | 30 | 60; ``purpose`` free text, except ``product:<product_id>`` (energy used for that product) and
  ``output:<product_id>`` (the product's output, energy type ``product_output``), whose product must exist.
* ``products``: ``product_id, enterprise_id, name, unit, product_type, limit_standard, limit_value,
  limit_unit``; an empty limit is filled from ``data/monitoring/product_limits.csv`` by ``product_type``.

:func:`load_registry` takes a folder (``enterprises.csv``, ``points.csv``, ``products.csv``), an Excel workbook
with sheets of those names, or a mapping of name → frame or path. Every problem found is raised together as
:class:`~citycarbon.errors.InputError` naming the file, the 1-based data row and the field, with a
"did you mean" suggestion where one is close. Nothing is written by loading.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from citycarbon.codelists import load_codelist, nearest
from citycarbon.data import data_path, read_csv
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.monitoring.uscc import uscc_problem
from citycarbon.units import UnitError, is_unit, same_dimension

__all__ = [
    "ENTERPRISE_COLUMNS",
    "POINT_COLUMNS",
    "PRODUCT_COLUMNS",
    "Registry",
    "energy_types",
    "industries",
    "key_unit_rules",
    "load_registry",
    "product_limits",
    "registry_dir",
    "tce_factors",
    "tier_for",
]

ENTERPRISE_COLUMNS: tuple[str, ...] = ("enterprise_id", "name", "uscc", "industry_code", "region", "tier",
                                       "annual_budget_tce", "budget_year")
POINT_COLUMNS: tuple[str, ...] = ("point_id", "enterprise_id", "energy_type", "unit", "kind", "multiplier",
                                  "parent_point_id", "interval_minutes", "register_max", "purpose")
PRODUCT_COLUMNS: tuple[str, ...] = ("product_id", "enterprise_id", "name", "unit", "product_type",
                                    "limit_standard", "limit_value", "limit_unit")
_REQUIRED = {
    "enterprises": ("enterprise_id", "name", "uscc", "industry_code", "region"),
    "points": ("point_id", "enterprise_id", "energy_type", "unit", "kind", "interval_minutes"),
    "products": ("product_id", "enterprise_id", "name", "unit"),
}
KINDS = ("interval", "cumulative")
INTERVALS = (15, 30, 60)
TABLES = ("enterprises", "points", "products")


@cache
def industries() -> pd.DataFrame:
    """GB/T 4754-2017 classes shipped for the key industries (``data/monitoring/industries.csv``)."""
    return read_csv("monitoring/industries.csv", dtype={"industry_code": str}).set_index("industry_code", drop=False)


@cache
def energy_types() -> pd.DataFrame:
    """Metered energy types with canonical unit and tce factor row (``data/monitoring/energy_types.csv``)."""
    frame = read_csv("monitoring/energy_types.csv")
    frame["is_energy"] = frame["is_energy"].astype(str).str.lower().eq("true")
    return frame.set_index("energy_type", drop=False)


@cache
def tce_factors() -> pd.DataFrame:
    """Per energy type: tce per canonical unit at 当量值 (calorific, GB/T 2589-2020 Annex A factor rows).

    Columns ``energy_type, canonical_unit, tce_per_unit, factor_id, factor_status``; ``product_output`` and
    any type without a factor row have NaN. Electricity at 等价值 (coal-equivalent) is not a unit
    conversion and is not made here (architecture decision: explicit methods only).
    """
    from citycarbon.factors import load_factors
    from citycarbon.units import product_factor

    table = load_factors()
    rows = []
    for etype, row in energy_types().iterrows():
        factor_id = row["standard_coal_factor"]
        if _blank(factor_id):
            rows.append({"energy_type": etype, "canonical_unit": row["canonical_unit"], "tce_per_unit": math.nan,
                         "factor_id": "", "factor_status": ""})
            continue
        factor = table.row(str(factor_id))
        per_unit = factor.value * product_factor(str(row["canonical_unit"]), factor.unit, "tce")
        rows.append({"energy_type": etype, "canonical_unit": row["canonical_unit"], "tce_per_unit": per_unit,
                     "factor_id": factor.factor_id, "factor_status": factor.status})
    return pd.DataFrame(rows).set_index("energy_type", drop=False)


@cache
def product_limits() -> pd.DataFrame:
    """Unit-product energy limits with their source (``data/monitoring/product_limits.csv``)."""
    return read_csv("monitoring/product_limits.csv").set_index("product_type", drop=False)


@cache
def key_unit_rules() -> dict:
    """Tier thresholds and the deployment's time zone (``data/monitoring/key_units.yaml``)."""
    return yaml.safe_load(data_path("monitoring/key_units.yaml").read_text(encoding="utf-8"))


def registry_dir(home: str | Path) -> Path:
    """Where the embedded default keeps the imported registry: ``<CITYCARBON_HOME>/monitoring/registry``."""
    return Path(home) / "monitoring" / "registry"


def tier_for(annual_tce: float, designated: bool = False) -> int | None:
    """Key-unit tier of an enterprise using ``annual_tce`` a year: 1 (≥ 10 000 tce), 2 (designated and
    ≥ 5 000 tce), None otherwise (《重点用能单位节能管理办法》 Art. 2)."""
    rules = key_unit_rules()
    if annual_tce >= float(rules["tier1_min_tce"]):
        return 1
    if designated and annual_tce >= float(rules["tier2_min_tce"]):
        return 2
    return None


@dataclass
class Registry:
    """Validated registry frames. Build one with :func:`load_registry`."""

    enterprises: pd.DataFrame
    points: pd.DataFrame
    products: pd.DataFrame
    timezone: str = field(default_factory=lambda: str(key_unit_rules()["timezone"]))

    def __post_init__(self) -> None:
        self._points = self.points.set_index("point_id", drop=False)
        self._enterprises = self.enterprises.set_index("enterprise_id", drop=False)

    def point(self, point_id: str) -> dict:
        """The point's row as a dict; KeyError naming the nearest id when unknown."""
        try:
            return self._points.loc[str(point_id)].to_dict()
        except KeyError:
            hint = nearest(point_id, list(self._points.index[:5000]))
            raise KeyError(f"unknown point {point_id!r}" + (f"; did you mean {hint!r}?" if hint else "")) from None

    def enterprise(self, enterprise_id: str) -> dict:
        try:
            return self._enterprises.loc[str(enterprise_id)].to_dict()
        except KeyError:
            raise KeyError(f"unknown enterprise {enterprise_id!r}") from None

    def enterprise_of(self, point_id: str) -> str:
        """The enterprise a point belongs to."""
        return str(self.point(point_id)["enterprise_id"])

    def points_of(self, enterprise_id: str) -> pd.DataFrame:
        return self.points[self.points["enterprise_id"] == str(enterprise_id)]

    def canonical_units(self) -> pd.Series:
        """point_id → canonical unit of its energy type (the lake's ``energy_unit``)."""
        units = energy_types()["canonical_unit"]
        return pd.Series(self.points["energy_type"].map(units).to_numpy(), index=self.points["point_id"].to_numpy())

    def write(self, folder: str | Path) -> Path:
        """Write the three CSVs into ``folder``; each file is replaced atomically (temp file + rename)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in (("enterprises", self.enterprises), ("points", self.points),
                            ("products", self.products)):
            handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".csv")
            os.close(handle)
            frame.to_csv(tmp, index=False)
            os.replace(tmp, folder / f"{name}.csv")
        return folder


# --------------------------------------------------------------------------------------------------- loading

def _read_sources(source: object) -> dict[str, tuple[pd.DataFrame, str]]:
    """name → (frame of strings, file label) for a folder, a workbook or a mapping."""
    if isinstance(source, Mapping):
        out = {}
        for name, item in source.items():
            if isinstance(item, pd.DataFrame):
                out[name] = (item.astype(object).where(item.notna(), None), f"{name} frame")
            else:
                out[name] = (_read_file(Path(item)), Path(item).name)
        return out
    path = Path(str(source))
    if path.is_dir():
        out = {}
        for name in TABLES:
            for suffix in (".csv", ".xlsx"):
                candidate = path / f"{name}{suffix}"
                if candidate.exists():
                    out[name] = (_read_file(candidate), candidate.name)
                    break
        if not out:
            raise InputError(Problem(f"no enterprises.csv, points.csv or products.csv in {path}", file=str(path)))
        return out
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            sheets = pd.read_excel(path, sheet_name=None, dtype=str)
        except (OSError, ValueError) as error:
            raise InputError(Problem(f"cannot read workbook: {error}", file=path.name)) from error
        out = {}
        for sheet, frame in sheets.items():
            key = str(sheet).strip().lower()
            if key in TABLES:
                out[key] = (frame.astype(object).where(frame.notna(), None), f"{path.name}[{sheet}]")
        if not out:
            raise InputError(Problem(f"no sheet named {', '.join(TABLES)}", file=path.name))
        return out
    if not path.exists():
        raise InputError(Problem("file not found", file=str(path)))
    stem = path.stem.lower()
    name = stem if stem in TABLES else nearest(stem, TABLES)
    if name is None:
        raise InputError(Problem(f"cannot tell which registry table {path.name} holds; name it "
                                 f"{', '.join(t + '.csv' for t in TABLES)}", file=path.name))
    return {name: (_read_file(path), path.name)}


def _sheet_rows(frame: pd.DataFrame) -> list[int]:
    """The spreadsheet row of each row of ``frame`` (the header is row 1; a CSV's banner lines count):
    :func:`citycarbon.importers.schemas.row_numbers`."""
    from citycarbon.importers.schemas import row_numbers

    return [int(n) for n in row_numbers(frame)]


def _read_file(path: Path) -> pd.DataFrame:
    from citycarbon.importers.csvfile import read_csv_rows
    from citycarbon.importers.schemas import numbered

    try:  # rows numbered as the spreadsheet shows them (header row 1, banner lines counted)
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = numbered(pd.read_excel(path, dtype=str))
        else:
            frame = read_csv_rows(path, path.name)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise InputError(Problem(f"cannot read file: {error}", file=path.name)) from error
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.astype(object).where(frame.notna(), None)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _text(value: object) -> str:
    return "" if _blank(value) else str(value).strip()


def _number(value: object, problems: Problems, where: dict, *, minimum: float | None = None,
            integer: bool = False) -> float | None:
    if _blank(value):
        return None
    try:
        number = float(str(value).strip().replace(",", ""))
    except ValueError:
        problems.add(f"not a number: {value!r}", value=value, **where)
        return None
    if math.isnan(number) or (integer and number != int(number)):
        problems.add(f"must be a whole number, got {value!r}" if integer else "not a number", value=value, **where)
        return None
    if minimum is not None and number < minimum:
        problems.add(f"must be ≥ {minimum:g}, got {number:g}", value=value, **where)
        return None
    return number


def _check_columns(frame: pd.DataFrame, name: str, file: str, problems: Problems) -> bool:
    missing = [c for c in _REQUIRED[name] if c not in frame.columns]
    for column in missing:
        problems.add(f"missing column {column!r}", file=file, field=column,
                     suggestion=nearest(column, [str(c) for c in frame.columns]))
    return not missing


def _enterprises(frame: pd.DataFrame, file: str, problems: Problems) -> pd.DataFrame:
    known_industries = set(industries().index)
    regions = load_codelist("regions")
    counties = {str(c) for c, level in zip(regions["code"], regions["level"], strict=True)
                if level in ("district", "county")}
    names = {str(n): str(c) for c, n in zip(regions["code"], regions["name_zh"], strict=True)}
    rows, seen_ids, seen_uscc = [], {}, {}
    for i, record in zip(_sheet_rows(frame), frame.to_dict("records"), strict=True):
        where = {"file": file, "row": i}
        eid, uscc = _text(record.get("enterprise_id")), _text(record.get("uscc")).upper()
        if not eid:
            problems.add("enterprise_id is empty", field="enterprise_id", **where)
        elif eid in seen_ids:
            problems.add(f"duplicate enterprise_id {eid!r} (first on row {seen_ids[eid]})", field="enterprise_id",
                         value=eid, **where)
        seen_ids.setdefault(eid, i)
        if not _text(record.get("name")):
            problems.add("name is empty", field="name", **where)
        why = uscc_problem(uscc) if uscc else "empty code"
        if why:
            problems.add(f"unified social credit code {uscc!r}: {why}", field="uscc", value=uscc, **where)
        elif uscc in seen_uscc:
            problems.add(f"duplicate uscc (first on row {seen_uscc[uscc]})", field="uscc", value=uscc, **where)
        seen_uscc.setdefault(uscc, i)
        industry = _text(record.get("industry_code"))
        if industry not in known_industries:
            problems.add(f"unknown GB/T 4754-2017 class {industry!r} (see data/monitoring/industries.csv)",
                         field="industry_code", value=industry, suggestion=nearest(industry, sorted(known_industries)),
                         **where)
        region = _text(record.get("region"))
        if region in names and names[region] in counties:
            region = names[region]
        if region not in counties:
            problems.add(f"unknown GB/T 2260 district/county code {region!r}", field="region", value=region,
                         suggestion=nearest(region, sorted(counties)), **where)
        annual = _number(record.get("annual_energy_tce"), problems, {**where, "field": "annual_energy_tce"},
                         minimum=0)
        tier = _number(record.get("tier"), problems, {**where, "field": "tier"}, integer=True)
        if tier is None and annual is not None:
            tier = tier_for(annual, designated=True)
        if tier not in (1, 2):
            problems.add("tier must be 1 (≥ 10 000 tce/a) or 2 (designated, ≥ 5 000 tce/a)", field="tier",
                         value=record.get("tier"), **where)
        elif annual is not None and tier == 1 and tier_for(annual) != 1:
            problems.add(f"tier 1 needs ≥ {key_unit_rules()['tier1_min_tce']} tce/a, annual_energy_tce is "
                         f"{annual:g}", field="tier", value=tier, **where)
        budget = _number(record.get("annual_budget_tce"), problems, {**where, "field": "annual_budget_tce"},
                         minimum=0)
        year = _number(record.get("budget_year"), problems, {**where, "field": "budget_year"}, integer=True)
        if budget is not None and year is None:
            problems.add("budget_year is needed with annual_budget_tce", field="budget_year", **where)
        rows.append({"enterprise_id": eid, "name": _text(record.get("name")), "uscc": uscc,
                     "industry_code": industry, "region": region, "tier": int(tier) if tier in (1, 2) else 0,
                     "annual_budget_tce": budget, "budget_year": int(year) if year is not None else None,
                     "annual_energy_tce": annual})
    out = pd.DataFrame(rows, columns=[*ENTERPRISE_COLUMNS, "annual_energy_tce"])
    out["annual_budget_tce"] = out["annual_budget_tce"].astype(float)
    out["annual_energy_tce"] = out["annual_energy_tce"].astype(float)
    out["budget_year"] = out["budget_year"].astype("Int64")
    out["tier"] = out["tier"].astype(int)
    return out


def _products(frame: pd.DataFrame, file: str, enterprises: set[str], problems: Problems) -> pd.DataFrame:
    limits = product_limits()
    rows, seen = [], {}
    for i, record in zip(_sheet_rows(frame), frame.to_dict("records"), strict=True):
        where = {"file": file, "row": i}
        pid, eid = _text(record.get("product_id")), _text(record.get("enterprise_id"))
        if not pid:
            problems.add("product_id is empty", field="product_id", **where)
        elif pid in seen:
            problems.add(f"duplicate product_id (first on row {seen[pid]})", field="product_id", value=pid, **where)
        seen.setdefault(pid, i)
        if eid not in enterprises:
            problems.add(f"unknown enterprise {eid!r}", field="enterprise_id", value=eid,
                         suggestion=nearest(eid, sorted(enterprises)[:5000]), **where)
        unit = _text(record.get("unit"))
        if not is_unit(unit):
            problems.add(f"unknown unit {unit!r}", field="unit", value=unit, **where)
        ptype = _text(record.get("product_type"))
        standard, limit_unit = _text(record.get("limit_standard")), _text(record.get("limit_unit"))
        value = _number(record.get("limit_value"), problems, {**where, "field": "limit_value"})
        if ptype:
            if ptype not in limits.index:
                problems.add(f"unknown product_type {ptype!r} (see data/monitoring/product_limits.csv)",
                             field="product_type", value=ptype, suggestion=nearest(ptype, list(limits.index)),
                             **where)
            elif value is None:
                row = limits.loc[ptype]
                value, limit_unit, standard = float(row["limit_value"]), str(row["limit_unit"]), str(
                    row["limit_standard"])
        if value is not None:
            if not is_unit(limit_unit):
                problems.add(f"unknown limit_unit {limit_unit!r}", field="limit_unit", value=limit_unit, **where)
            elif is_unit(unit) and not _per_unit_ok(limit_unit, unit):
                problems.add(f"limit_unit {limit_unit!r} is not energy per {unit!r}", field="limit_unit",
                             value=limit_unit, **where)
        rows.append({"product_id": pid, "enterprise_id": eid, "name": _text(record.get("name")), "unit": unit,
                     "product_type": ptype, "limit_standard": standard, "limit_value": value,
                     "limit_unit": limit_unit})
    out = pd.DataFrame(rows, columns=list(PRODUCT_COLUMNS))
    out["limit_value"] = out["limit_value"].astype(float)
    return out


def _per_unit_ok(limit_unit: str, product_unit: str) -> bool:
    try:
        return same_dimension(f"({limit_unit}) * ({product_unit})", "kgce") or same_dimension(
            f"({limit_unit}) * ({product_unit})", "kWh")
    except UnitError:
        return False


def _points(frame: pd.DataFrame, file: str, enterprises: set[str], products: pd.DataFrame,
            problems: Problems) -> pd.DataFrame:
    types = energy_types()
    product_owner = dict(zip(products["product_id"], products["enterprise_id"], strict=True))
    records = frame.to_dict("records")
    numbers = _sheet_rows(frame)
    ids: dict[str, int] = {}  # point_id → position of its first record
    for position, record in enumerate(records):
        ids.setdefault(_text(record.get("point_id")), position)
    rows = []
    seen: dict[str, int] = {}
    for i, record in zip(numbers, records, strict=True):
        where = {"file": file, "row": i}
        pid, eid = _text(record.get("point_id")), _text(record.get("enterprise_id"))
        if not pid:
            problems.add("point_id is empty", field="point_id", **where)
        elif pid in seen:
            problems.add(f"duplicate point_id (first on row {seen[pid]})", field="point_id", value=pid, **where)
        seen.setdefault(pid, i)
        if eid not in enterprises:
            problems.add(f"unknown enterprise {eid!r}", field="enterprise_id", value=eid,
                         suggestion=nearest(eid, sorted(enterprises)[:5000]), **where)
        etype, unit = _text(record.get("energy_type")), _text(record.get("unit"))
        if etype not in types.index:
            problems.add(f"unknown energy_type {etype!r} (see data/monitoring/energy_types.csv)",
                         field="energy_type", value=etype, suggestion=nearest(etype, list(types.index)), **where)
        if not is_unit(unit):
            problems.add(f"unknown unit {unit!r}", field="unit", value=unit,
                         suggestion=nearest(unit, ["kWh", "MWh", "m**3", "t", "GJ", "kg"]), **where)
        elif etype in types.index and not same_dimension(unit, str(types.loc[etype, "canonical_unit"])):
            problems.add(f"unit {unit!r} does not measure {etype} (canonical {types.loc[etype, 'canonical_unit']})",
                         field="unit", value=unit, **where)
        kind = _text(record.get("kind")).lower()
        if kind not in KINDS:
            problems.add(f"kind must be one of {', '.join(KINDS)}", field="kind", value=kind,
                         suggestion=nearest(kind, KINDS), **where)
        multiplier = _number(record.get("multiplier"), problems, {**where, "field": "multiplier"}, minimum=1)
        interval = _number(record.get("interval_minutes"), problems, {**where, "field": "interval_minutes"},
                           integer=True)
        if interval not in INTERVALS:
            problems.add(f"interval_minutes must be one of {INTERVALS}", field="interval_minutes",
                         value=record.get("interval_minutes"), **where)
        register_max = _number(record.get("register_max"), problems, {**where, "field": "register_max"},
                               minimum=1)
        if register_max is not None and kind == "interval":
            problems.add("register_max applies to cumulative registers only", field="register_max", **where)
        parent = _text(record.get("parent_point_id"))
        if parent:
            if parent == pid:
                problems.add("a point cannot be its own parent", field="parent_point_id", value=parent, **where)
            elif parent not in ids:
                problems.add(f"unknown parent point {parent!r}", field="parent_point_id", value=parent,
                             suggestion=nearest(parent, list(ids)[:5000]), **where)
            else:
                other = records[ids[parent]]
                if _text(other.get("enterprise_id")) != eid:
                    problems.add(f"parent {parent!r} belongs to another enterprise", field="parent_point_id",
                                 value=parent, **where)
                if _text(other.get("energy_type")) != etype:
                    problems.add(f"parent {parent!r} meters another energy type", field="parent_point_id",
                                 value=parent, **where)
        purpose = _text(record.get("purpose")) or ("main" if not parent else "sub_meter")
        for prefix in ("product:", "output:"):
            if purpose.startswith(prefix):
                product = purpose[len(prefix):]
                if product_owner.get(product) != eid:
                    problems.add(f"purpose names product {product!r}, which is not a product of {eid!r}",
                                 field="purpose", value=purpose, **where)
        if (etype == "product_output") != purpose.startswith("output:") and etype in types.index:
            problems.add("an output point has energy_type product_output and purpose output:<product_id>",
                         field="purpose", value=purpose, **where)
        rows.append({"point_id": pid, "enterprise_id": eid, "energy_type": etype, "unit": unit, "kind": kind,
                     "multiplier": multiplier if multiplier is not None else 1.0, "parent_point_id": parent,
                     "interval_minutes": int(interval) if interval in INTERVALS else 0,
                     "register_max": register_max, "purpose": purpose, "_row": where["row"]})
    _check_cycles(rows, file, problems)
    out = pd.DataFrame(rows, columns=list(POINT_COLUMNS))
    out["multiplier"] = out["multiplier"].astype(float)
    out["register_max"] = out["register_max"].astype(float)
    out["interval_minutes"] = out["interval_minutes"].astype(int)
    return out


def _check_cycles(rows: list[dict], file: str, problems: Problems) -> None:
    parent = {r["point_id"]: r["parent_point_id"] for r in rows}
    index = {r["point_id"]: r.get("_row") for r in rows}  # the spreadsheet row of each point
    for start in parent:
        seen, node = set(), start
        while parent.get(node):
            if node in seen:
                problems.add("sub-meter chain loops back on itself", file=file, row=index[start],
                             field="parent_point_id", value=parent[start])
                break
            seen.add(node)
            node = parent[node]


def load_registry(source: object, *, timezone: str | None = None) -> Registry:
    """Validate and load a registry from a folder, a workbook, a mapping of frames/paths or a Registry.

    Raises :class:`InputError` listing every problem (file, row, field, suggestion).
    """
    if isinstance(source, Registry):
        return source
    tables = _read_sources(source)
    problems = Problems()
    if "enterprises" not in tables:
        raise InputError(Problem("the registry needs an enterprises table", field="enterprises"))
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        frame, file = tables.get(name, (pd.DataFrame(columns=list(_REQUIRED[name])), f"{name}.csv"))
        if not _check_columns(frame, name, file, problems):
            problems.raise_if_any()
        frames[name] = frame
    enterprises = _enterprises(frames["enterprises"], tables["enterprises"][1], problems)
    known = set(enterprises["enterprise_id"])
    products = _products(frames["products"], tables.get("products", (None, "products.csv"))[1], known, problems)
    points = _points(frames["points"], tables.get("points", (None, "points.csv"))[1], known, products, problems)
    problems.raise_if_any()
    kwargs = {"timezone": timezone} if timezone else {}
    return Registry(enterprises, points, products, **kwargs)
