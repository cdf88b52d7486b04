"""The project gate's tables (``data/projects/``), read, validated and returned as typed records.

A bad row raises :class:`~citycarbon.errors.InputError` naming the file, the spreadsheet row (a CSV's banner
lines and header count as rows, so the first data row of a file with a 4-line banner is row 6) and the field."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

import yaml

from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem, Problems

T = TypeVar("T")


class Verification(StrEnum):
    """How far a value is confirmed (the reference note's flags, plus the project's own readings)."""

    verified = "V"  # seen in an official or primary text
    secondary = "V*"  # seen in a reliable secondary source
    provisional = "V*?"  # seen only on an unofficial mirror or low-quality site
    unverified = "UNVERIFIED"  # from memory or not confirmed
    estimate = "estimate"  # this project's reading of a rule (not the document's)


class RegionClass(StrEnum):
    """Capacity-replacement region class: 大气污染防治重点区域 or the rest."""

    key = "key"
    other = "other"


@dataclass(frozen=True)
class Benchmark:
    product: str
    name_zh: str
    unit: str
    benchmark: float  # 标杆水平
    baseline: float  # 基准水平
    edition: int
    in_force_from: date
    document: str
    status: Verification
    plan_types: tuple[str, ...]  # the plan-rule codes the product falls under (cement, steel, ...), ';'-separated
    source: str


@dataclass(frozen=True)
class ReplacementRatio:
    sector: str
    name_zh: str
    region_class: RegionClass
    ratio: float
    in_force_from: date | None
    in_force_to: date | None
    paused_from: date | None
    document: str
    status: Verification
    source: str
    notes: str

    def in_force(self, day: date) -> bool:
        return (self.in_force_from is None or self.in_force_from <= day) and (
            self.in_force_to is None or day <= self.in_force_to)


@dataclass(frozen=True)
class RegionClassRow:
    region_prefix: str
    name_zh: str
    region_class: RegionClass
    document: str
    status: Verification
    source: str


@dataclass(frozen=True)
class LianggaoCategory:
    code: str
    name_zh: str
    types: tuple[str, ...]
    products: tuple[str, ...]


@dataclass(frozen=True)
class Lianggao:
    divisions: Mapping[str, str]  # GB/T 4754 division code → name_zh
    divisions_document: str
    divisions_status: Verification
    categories: tuple[LianggaoCategory, ...]
    categories_document: str
    categories_status: Verification
    mapping_status: Verification


@dataclass(frozen=True)
class ReviewLevel:
    level: str
    name_zh: str
    name_en: str
    tce_at_least: float | None
    tce_below: float | None
    electricity_kwh_below: float | None
    article: str
    status: Verification
    source: str
    #: the article in Chinese (``第8条``, ``条款未核实``); shown in Chinese text instead of ``article``
    article_zh: str = ""

    def matches(self, tce: float, electricity_kwh: float) -> bool:
        return ((self.tce_at_least is None or tce >= self.tce_at_least)
                and (self.tce_below is None or tce < self.tce_below)
                and (self.electricity_kwh_below is None or electricity_kwh < self.electricity_kwh_below))


@dataclass(frozen=True)
class ReviewEdition:
    id: str
    document: str
    in_force_from: date
    in_force_to: date | None
    status: Verification
    source: str
    energy_basis: str
    levels: tuple[ReviewLevel, ...]
    default_level: ReviewLevel
    supersedes: str | None = None
    note_en: str | None = None

    def in_force(self, day: date) -> bool:
        return self.in_force_from <= day and (self.in_force_to is None or day <= self.in_force_to)


@dataclass(frozen=True)
class WindowGuidance:
    document: str
    tce_at_least: float
    lianggao_only: bool
    status: Verification
    source: str


@dataclass(frozen=True)
class EnergyReplacement:
    ratio: float
    status: Verification
    source: str
    excludes: tuple[str, ...]
    exclusion_document: str
    exclusion_status: Verification


@dataclass(frozen=True)
class EnergyReview:
    editions: tuple[ReviewEdition, ...]
    window_guidance: WindowGuidance
    energy_replacement: EnergyReplacement


@dataclass(frozen=True)
class PlanType:
    """The Chinese and English label of a plan-rule code (``plan_types.csv``)."""

    code: str
    name_zh: str
    name_en: str
    status: Verification
    source: str


@dataclass(frozen=True)
class ProjectTables:
    """All the project gate's tables together."""

    benchmarks: tuple[Benchmark, ...]
    replacement: tuple[ReplacementRatio, ...]
    region_classes: tuple[RegionClassRow, ...]
    lianggao: Lianggao
    energy_review: EnergyReview
    #: plan-rule code → its labels (empty: codes are shown as they are)
    plan_types: tuple[PlanType, ...] = ()

    def type_zh(self, code: str) -> str:
        """The Chinese label of a plan-rule code or a product code (benchmark ``name_zh``); the code itself
        when neither table knows it."""
        for row in self.plan_types:
            if row.code == code:
                return row.name_zh
        return next((b.name_zh for b in self.benchmarks if b.product == code), code)

    def edition_document(self, edition_id: str) -> str:
        """The document (Chinese name and number) of a 节能审查 edition id."""
        return next((e.document for e in self.energy_review.editions if e.id == edition_id), edition_id)


# ---------------------------------------------------------------------------------------------------- parsing


class _Bad(ValueError):
    pass


def _text(value: object, *, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise _Bad("a value is required")
    return text


def _number(value: object) -> float:
    text = _text(value)
    try:
        number = float(text)
    except ValueError:
        raise _Bad(f"{text!r} is not a number") from None
    if not math.isfinite(number):
        raise _Bad("the value must be finite")
    return number


def _positive(value: object) -> float:
    number = _number(value)
    if number <= 0:
        raise _Bad(f"must be greater than 0, is {number:g}")
    return number


def _optional_number(value: object) -> float | None:
    return None if value is None or _text(value, required=False) == "" else _number(value)


def _date(value: object) -> date:
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Bad(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _optional_date(value: object) -> date | None:
    return None if value is None or _text(value, required=False) == "" else _date(value)


def _status(value: object) -> Verification:
    text = _text(value)
    try:
        return Verification(text)
    except ValueError:
        allowed = ", ".join(v.value for v in Verification)
        raise _Bad(f"status {text!r} is not one of {allowed}") from None


def _semicolon_codes(value: object) -> tuple[str, ...]:
    return tuple(code.strip() for code in _text(value, required=False).split(";") if code.strip())


def _region_class(value: object) -> RegionClass:
    text = _text(value)
    try:
        return RegionClass(text)
    except ValueError:
        raise _Bad(f"region class {text!r} is not one of key, other") from None


class _Row:
    """One CSV row: each field read through a parser; a failure is recorded as a problem with file/row/field."""

    def __init__(self, values: Mapping[str, str], file: str, row: int, problems: Problems):
        self.values, self.file, self.row, self.problems = values, file, row, problems
        self.ok = True

    def get(self, name: str, parse: Callable[[object], T]) -> T:
        try:
            return parse(self.values.get(name))
        except _Bad as bad:
            self.ok = False
            self.problems.add(str(bad), file=self.file, row=self.row, field=name, value=self.values.get(name))
            return None  # type: ignore[return-value]  # the row is dropped: problems are raised before use


def _csv_rows(path: Path, required: tuple[str, ...], problems: Problems) -> Iterator[_Row]:
    name = path.name
    with path.open(encoding="utf-8", newline="") as handle:
        lines = handle.read().splitlines()
    banner = 0
    while banner < len(lines) and lines[banner].startswith("#"):
        banner += 1
    reader = csv.reader(lines[banner:])
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(Problem(f"missing columns: {', '.join(missing)}", file=name, row=banner + 1))
    for offset, cells in enumerate(reader):
        row_number = banner + 2 + offset
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.add(f"has {len(cells)} cells, the header has {len(header)}", file=name, row=row_number)
            continue
        yield _Row(dict(zip(header, cells, strict=True)), name, row_number, problems)


def _path(path: Path | str | None, default: str) -> Path:
    return Path(path) if path is not None else data_path(f"projects/{default}")


def load_benchmarks(path: Path | str | None = None) -> tuple[Benchmark, ...]:
    """``efficiency_benchmarks.csv``; one row per product and edition."""
    problems = Problems()
    out: list[Benchmark] = []
    seen: set[tuple[str, int]] = set()
    columns = ("product", "name_zh", "unit", "benchmark", "baseline", "edition", "in_force_from", "document",
               "status", "plan_type", "source")
    for row in _csv_rows(_path(path, "efficiency_benchmarks.csv"), columns, problems):
        record = Benchmark(
            product=row.get("product", _text), name_zh=row.get("name_zh", _text), unit=row.get("unit", _text),
            benchmark=row.get("benchmark", _number), baseline=row.get("baseline", _number),
            edition=int(row.get("edition", _number) or 0), in_force_from=row.get("in_force_from", _date),
            document=row.get("document", _text), status=row.get("status", _status),
            plan_types=row.get("plan_type", _semicolon_codes),
            source=row.get("source", _text))
        if not row.ok:
            continue
        if record.benchmark > record.baseline:
            problems.add(f"标杆 {record.benchmark:g} is worse than 基准 {record.baseline:g} (lower is better)",
                         file=row.file, row=row.row, field="benchmark")
            continue
        if (record.product, record.edition) in seen:
            problems.add(f"product {record.product!r} edition {record.edition} appears twice",
                         file=row.file, row=row.row, field="product")
            continue
        seen.add((record.product, record.edition))
        out.append(record)
    problems.raise_if_any()
    return tuple(out)


def load_replacement(path: Path | str | None = None) -> tuple[ReplacementRatio, ...]:
    """``capacity_replacement.csv``; ratio = retired capacity required per unit of new capacity."""
    problems = Problems()
    out: list[ReplacementRatio] = []
    columns = ("sector", "name_zh", "region_class", "ratio", "in_force_from", "in_force_to", "paused_from",
               "document", "status", "source", "notes")
    for row in _csv_rows(_path(path, "capacity_replacement.csv"), columns, problems):
        record = ReplacementRatio(
            sector=row.get("sector", _text), name_zh=row.get("name_zh", _text),
            region_class=row.get("region_class", _region_class), ratio=row.get("ratio", _positive),
            in_force_from=row.get("in_force_from", _optional_date),
            in_force_to=row.get("in_force_to", _optional_date),
            paused_from=row.get("paused_from", _optional_date), document=row.get("document", _text),
            status=row.get("status", _status), source=row.get("source", _text),
            notes=row.get("notes", lambda v: _text(v, required=False)))
        if not row.ok:
            continue
        if record.in_force_from and record.in_force_to and record.in_force_to < record.in_force_from:
            problems.add("in_force_to is before in_force_from", file=row.file, row=row.row, field="in_force_to")
            continue
        out.append(record)
    problems.raise_if_any()
    return tuple(out)


def load_region_classes(path: Path | str | None = None) -> tuple[RegionClassRow, ...]:
    """``capacity_region_classes.csv``: region code prefix → key / other region."""
    problems = Problems()
    out: list[RegionClassRow] = []
    columns = ("region_prefix", "name_zh", "region_class", "document", "status", "source")
    for row in _csv_rows(_path(path, "capacity_region_classes.csv"), columns, problems):
        record = RegionClassRow(
            region_prefix=row.get("region_prefix", _text), name_zh=row.get("name_zh", _text),
            region_class=row.get("region_class", _region_class), document=row.get("document", _text),
            status=row.get("status", _status), source=row.get("source", _text))
        if not row.ok:
            continue
        if not record.region_prefix.isdigit():
            problems.add(f"{record.region_prefix!r} is not a GB/T 2260 code prefix (digits)",
                         file=row.file, row=row.row, field="region_prefix")
            continue
        out.append(record)
    problems.raise_if_any()
    return tuple(out)


class _Yaml:
    """Reads fields of a YAML mapping; a failure names the file and the field's dotted path."""

    def __init__(self, file: str, problems: Problems):
        self.file, self.problems = file, problems

    def get(self, node: object, path: str, key: str, parse: Callable[[object], T]) -> T:
        value = node.get(key) if isinstance(node, dict) else None
        try:
            return parse(value)
        except _Bad as bad:
            self.problems.add(str(bad), file=self.file, field=f"{path}.{key}" if path else key, value=value)
            return None  # type: ignore[return-value]  # problems are raised before the record is used

    def mapping(self, node: object, path: str, key: str) -> dict[str, object]:
        value = node.get(key) if isinstance(node, dict) else None
        if not isinstance(value, dict):
            self.problems.add("a mapping is required", file=self.file, field=f"{path}.{key}" if path else key)
            return {}
        return value

    def items(self, node: object, path: str, key: str) -> list[object]:
        value = node.get(key) if isinstance(node, dict) else None
        if not isinstance(value, list) or not value:
            self.problems.add("a non-empty list is required", file=self.file, field=f"{path}.{key}" if path else key)
            return []
        return value


def _codes(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad("a list of codes is required")
    return tuple(value)


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(Problem(f"not valid YAML: {err}", file=path.name,
                                 row=mark.line + 1 if mark is not None else None)) from None


def load_lianggao(path: Path | str | None = None) -> Lianggao:
    """``lianggao.yaml``: the 两高 industry divisions and categories."""
    file = _path(path, "lianggao.yaml")
    problems = Problems()
    y = _Yaml(file.name, problems)
    doc = _read_yaml(file)
    div = y.mapping(doc, "", "industry_divisions")
    cat = y.mapping(doc, "", "categories")
    divisions: dict[str, str] = {}
    for i, item in enumerate(y.items(div, "industry_divisions", "divisions")):
        where = f"industry_divisions.divisions[{i}]"
        code = y.get(item, where, "code", _text)
        name = y.get(item, where, "name_zh", _text)
        if code is not None and not (len(code) == 3 and code[0].isalpha() and code[1:].isdigit()):
            problems.add(f"{code!r} is not a GB/T 4754 division (a letter and two digits)", file=file.name,
                         field=f"{where}.code")
        elif code is not None and name is not None:
            divisions[code] = name
    categories: list[LianggaoCategory] = []
    for i, item in enumerate(y.items(cat, "categories", "items")):
        where = f"categories.items[{i}]"
        categories.append(LianggaoCategory(
            code=y.get(item, where, "code", _text), name_zh=y.get(item, where, "name_zh", _text),
            types=y.get(item, where, "types", _codes), products=y.get(item, where, "products", _codes)))
    record = Lianggao(
        divisions=divisions, divisions_document=y.get(div, "industry_divisions", "document", _text),
        divisions_status=y.get(div, "industry_divisions", "status", _status), categories=tuple(categories),
        categories_document=y.get(cat, "categories", "document", _text),
        categories_status=y.get(cat, "categories", "status", _status),
        mapping_status=y.get(cat, "categories", "mapping_status", _status))
    problems.raise_if_any()
    return record


def _level(y: _Yaml, node: object, where: str) -> ReviewLevel:
    level = ReviewLevel(
        level=y.get(node, where, "level", _text), name_zh=y.get(node, where, "name_zh", _text),
        name_en=y.get(node, where, "name_en", _text),
        tce_at_least=y.get(node, where, "tce_at_least", _optional_number),
        tce_below=y.get(node, where, "tce_below", _optional_number),
        electricity_kwh_below=y.get(node, where, "electricity_kwh_below", _optional_number),
        article=y.get(node, where, "article", _text), status=y.get(node, where, "status", _status),
        source=y.get(node, where, "source", _text),
        article_zh=y.get(node, where, "article_zh", lambda v: _text(v, required=False)))
    return level


def load_energy_review(path: Path | str | None = None) -> EnergyReview:
    """``energy_review.yaml``: the 节能审查 editions and their levels, window guidance, energy replacement."""
    file = _path(path, "energy_review.yaml")
    problems = Problems()
    y = _Yaml(file.name, problems)
    doc = _read_yaml(file)
    editions: list[ReviewEdition] = []
    for i, item in enumerate(y.items(doc, "", "editions")):
        where = f"editions[{i}]"
        levels = tuple(_level(y, node, f"{where}.levels[{j}]")
                       for j, node in enumerate(y.items(item, where, "levels")))
        editions.append(ReviewEdition(
            id=y.get(item, where, "id", _text), document=y.get(item, where, "document", _text),
            in_force_from=y.get(item, where, "in_force_from", _date),
            in_force_to=y.get(item, where, "in_force_to", _optional_date),
            status=y.get(item, where, "status", _status), source=y.get(item, where, "source", _text),
            energy_basis=y.get(item, where, "energy_basis", _text), levels=levels,
            default_level=_level(y, y.mapping(item, where, "default_level"), f"{where}.default_level"),
            supersedes=y.get(item, where, "supersedes", lambda v: _text(v, required=False) or None),
            note_en=y.get(item, where, "note_en", lambda v: _text(v, required=False) or None)))
    ordered = sorted((e for e in editions if e.in_force_from is not None), key=lambda e: e.in_force_from)
    for before, after in pairwise(ordered):
        if before.in_force_to is None or before.in_force_to >= after.in_force_from:
            problems.add(f"edition {before.id!r} overlaps {after.id!r}", file=file.name, field="editions")
    wg = y.mapping(doc, "", "window_guidance")
    er = y.mapping(doc, "", "energy_replacement")
    record = EnergyReview(
        editions=tuple(editions),
        window_guidance=WindowGuidance(
            document=y.get(wg, "window_guidance", "document", _text),
            tce_at_least=y.get(wg, "window_guidance", "tce_at_least", _positive),
            lianggao_only=bool(wg.get("lianggao_only", True)),
            status=y.get(wg, "window_guidance", "status", _status),
            source=y.get(wg, "window_guidance", "source", _text)),
        energy_replacement=EnergyReplacement(
            ratio=y.get(er, "energy_replacement", "ratio", _positive),
            status=y.get(er, "energy_replacement", "status", _status),
            source=y.get(er, "energy_replacement", "source", _text),
            excludes=y.get(er, "energy_replacement", "excludes", _codes),
            exclusion_document=y.get(er, "energy_replacement", "exclusion_document", _text),
            exclusion_status=y.get(er, "energy_replacement", "exclusion_status", _status)))
    problems.raise_if_any()
    return record


def load_plan_types(path: Path | str | None = None) -> tuple[PlanType, ...]:
    """``plan_types.csv``: the Chinese and English labels of the plan-rule codes."""
    file = _path(path, "plan_types.csv")
    problems = Problems()
    out: list[PlanType] = []
    seen: set[str] = set()
    for row in _csv_rows(file, ("code", "name_zh", "name_en", "status", "source"), problems):
        item = PlanType(code=row.get("code", _text), name_zh=row.get("name_zh", _text),
                        name_en=row.get("name_en", _text), status=row.get("status", _status),
                        source=row.get("source", _text))
        if item.code in seen:
            problems.add(f"code {item.code!r} is listed twice", file=file.name, row=row.row, field="code")
        seen.add(item.code)
        out.append(item)
    problems.raise_if_any()
    return tuple(out)


def load_tables() -> ProjectTables:
    """Every shipped table of the project gate."""
    return ProjectTables(benchmarks=load_benchmarks(), replacement=load_replacement(),
                         region_classes=load_region_classes(), lianggao=load_lianggao(),
                         energy_review=load_energy_review(), plan_types=load_plan_types())
