"""Replacement ledgers (产能置换 / 能耗等量或减量替代), pure allocation logic (issue 15 item 3).

A **source** is what a closure or a saving freed: retired capacity of one product (plant, unit, product,
capacity with its unit, date, document) or energy-consumption room (tce). An **allocation** gives part of a
source to a project. Rules (every allocation goes through :func:`allocate`):

* a source is allocated at most its amount, summed over all its allocations (no double spending);
* only a source of the requested kind serves a request, and a capacity source only a request for its product;
* a request in another unit of the same dimension is converted to the source's unit (pint) once, when
  allocated; amounts are :class:`~decimal.Decimal` in the source's unit, so ``balance + allocated == amount``
  holds exactly.

Refusals raise :class:`Refused` (a :class:`~citycarbon.errors.Conflict`, with a reason in Chinese and English)
and change nothing: the functions are pure. Atomicity across concurrent approvals is the store's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from citycarbon.errors import Conflict, InputError, Problem
from citycarbon.units import UnitError, conversion_factor, is_unit, same_dimension

__all__ = ["KINDS", "Allocation", "Refused", "Request", "Source", "allocate", "allocated", "balance"]

#: capacity: retired production capacity of one product; energy: energy-consumption room (tce)
KINDS: tuple[str, ...] = ("capacity", "energy")
_ENERGY_UNIT = "tce"  # the dimension of energy room (any energy unit converts)


class Refused(Conflict):
    """An allocation the ledger refuses (over-spend, wrong kind or product); nothing changed."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(f"{zh} / {en}", code=code)
        self.zh, self.en = zh, en


def _decimal(value: object, field: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InputError(Problem(f"'{value}' is not a number", field=field, value=str(value),
                                 message_zh=f"'{value}' 不是数值")) from exc
    if not number.is_finite() or number <= 0:
        raise InputError(Problem(f"'{value}' must be a finite number > 0", field=field, value=str(value),
                                 message_zh=f"'{value}' 须为大于 0 的有限数"))
    return number


def _unit(unit: object, kind: str, field: str) -> str:
    text = str(unit or "").strip()
    if not is_unit(text):
        raise InputError(Problem(f"unit '{text}' cannot be parsed", field=field, value=text,
                                 message_zh=f"无法识别的单位 '{text}'"))
    if kind == "energy" and not same_dimension(text, _ENERGY_UNIT):
        raise InputError(Problem(f"unit '{text}' is not an energy unit (tce)", field=field, value=text,
                                 message_zh=f"单位 '{text}' 不是能量单位（如 tce）"))
    return text


def _kind(kind: object, field: str = "kind") -> str:
    text = str(kind or "").strip()
    if text not in KINDS:
        raise InputError(Problem(f"kind '{text}' is not one of {', '.join(KINDS)}", field=field, value=text,
                                 message_zh=f"类型 '{text}' 须为 capacity（产能）或 energy（能耗）"))
    return text


@dataclass(frozen=True)
class Source:
    """A ledger source: retired capacity of a product, or energy-consumption room."""

    id: str
    kind: str
    amount: Decimal
    unit: str
    product: str | None = None
    plant: str | None = None
    unit_name: str | None = None  # the production unit (装置/生产线) retired
    retired_on: date | None = None
    document: str | None = None  # 文号 of the closure / saving confirmation

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Source:
        kind = _kind(data.get("kind"))
        source_id = str(data.get("id") or "").strip()
        if not source_id:
            raise InputError(Problem("a source needs an id", field="id", message_zh="来源缺少编号"))
        product = str(data.get("product") or "").strip() or None
        if kind == "capacity" and product is None:
            raise InputError(Problem("retired capacity needs its product", field="product",
                                     message_zh="退出产能须注明产品"))
        retired = data.get("retired_on")
        if isinstance(retired, str) and retired:
            try:
                retired = date.fromisoformat(retired)
            except ValueError as exc:
                raise InputError(Problem(f"'{retired}' is not a date", field="retired_on", value=retired,
                                         message_zh=f"'{retired}' 不是日期")) from exc
        return cls(source_id, kind, _decimal(data.get("amount"), "amount"), _unit(data.get("unit"), kind, "unit"),
                   product, _opt(data.get("plant")), _opt(data.get("unit_name")),
                   retired if isinstance(retired, date) else None, _opt(data.get("document")))


def _opt(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None


@dataclass(frozen=True)
class Request:
    """A project's request for replacement from one source, in any unit of the source's dimension."""

    source_id: str
    project_id: str
    kind: str
    amount: Decimal
    unit: str
    product: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Request:
        kind = _kind(data.get("kind"))
        return cls(str(data.get("source_id") or "").strip(), str(data.get("project_id") or "").strip(), kind,
                   _decimal(data.get("amount"), "amount"), _unit(data.get("unit"), kind, "unit"),
                   str(data.get("product") or "").strip() or None)


@dataclass(frozen=True)
class Allocation:
    """Part of a source given to a project: ``amount`` in the source's unit (and as requested)."""

    source_id: str
    project_id: str
    amount: Decimal  # in the source's unit
    unit: str
    requested_amount: Decimal
    requested_unit: str


def _sources(sources: Iterable[Source]) -> dict[str, Source]:
    return {s.id: s for s in sources}


def allocated(source: Source, allocations: Iterable[Allocation]) -> Decimal:
    """The amount of ``source`` already allocated (in its unit)."""
    return sum((a.amount for a in allocations if a.source_id == source.id), Decimal(0))


def balance(sources: Iterable[Source], allocations: Iterable[Allocation]) -> dict[str, Decimal]:
    """The remaining amount of each source, in its unit: amount − allocated."""
    allocs = list(allocations)
    return {s.id: s.amount - allocated(s, allocs) for s in sources}


def allocate(sources: Iterable[Source], allocations: Iterable[Allocation], request: Request) -> Allocation:
    """The new allocation for ``request``, or :class:`Refused` when the source cannot serve it.

    Refused: unknown source (``ledger_unknown_source``), another kind (``ledger_wrong_kind``), another product
    (``ledger_wrong_product``), more than the balance (``ledger_overspend``). A unit of another dimension is an
    :class:`~citycarbon.errors.InputError` naming ``unit``."""
    by_id = _sources(sources)
    source = by_id.get(request.source_id)
    if source is None:
        raise Refused("ledger_unknown_source", f"替代来源 '{request.source_id}' 不存在",
                      f"replacement source '{request.source_id}' does not exist")
    if source.kind != request.kind:
        raise Refused("ledger_wrong_kind", f"来源 '{source.id}' 的类型为 {source.kind}，不能用于 {request.kind} 替代",
                      f"source '{source.id}' is {source.kind}, it cannot serve a {request.kind} replacement")
    if source.kind == "capacity" and source.product != request.product:
        raise Refused("ledger_wrong_product",
                      f"来源 '{source.id}' 为 {source.product} 产能，不能置换 {request.product}",
                      f"source '{source.id}' is {source.product} capacity, it cannot replace {request.product}")
    try:
        factor = conversion_factor(request.unit, source.unit)
    except UnitError as exc:
        raise InputError(Problem(f"unit '{request.unit}' does not fit the source's unit '{source.unit}'",
                                 field="unit", value=request.unit,
                                 message_zh=f"单位 '{request.unit}' 与来源单位 '{source.unit}' 量纲不符")) from exc
    amount = request.amount if factor == 1.0 else request.amount * Decimal(repr(factor))
    remaining = source.amount - allocated(source, allocations)
    if amount > remaining:
        raise Refused("ledger_overspend",
                      f"来源 '{source.id}' 余额 {remaining} {source.unit}，不足以分配 {amount} {source.unit}",
                      f"source '{source.id}' has {remaining} {source.unit} left, less than {amount} {source.unit}")
    return Allocation(source.id, request.project_id, amount, source.unit, request.amount, request.unit)
