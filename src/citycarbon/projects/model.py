"""A fixed-asset investment project as plain data, and the check of its fields.

Quantities are physical (fuel code from the ``fuels`` codelist → quantity and unit); the energy helper turns
them into tce. Nothing here reads the store or the plan."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from citycarbon.errors import InputError, Problem
from citycarbon.monitoring.uscc import uscc_problem
from citycarbon.units import is_unit


class ProjectKind(StrEnum):
    """新建 / 扩建 (改扩建) / 技术改造."""

    new = "new"
    expansion = "expansion"
    revamp = "revamp"


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str


@dataclass(frozen=True)
class ProductLine:
    """A product and the capacity the project adds (t/a, 万t/a, 重量箱/a …), with the unit energy consumption
    the project's 节能报告 states (in the benchmark's unit, e.g. kgce/t), if any."""

    product: str
    capacity: float
    unit: str
    unit_consumption: float | None = None
    consumption_unit: str | None = None


def _frozen(mapping: Mapping[str, Quantity] | None) -> Mapping[str, Quantity]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Project:
    """One project as filed. ``types`` are the plan-rule codes the project is (``coal_power_plant``,
    ``petrochemical`` …) beyond what its products say; ``national_plan`` is the national industry plan the
    applicant cites as including the project; ``city_consent`` the document recording the city government's
    consent (e.g. for coal power)."""

    id: str
    name: str
    applicant_name: str
    applicant_uscc: str
    region_code: str  # GB/T 2260 code of the district / county
    industry_code: str  # GB/T 4754-2017, e.g. C2614
    kind: ProjectKind
    application_date: date
    products: tuple[ProductLine, ...] = ()
    types: tuple[str, ...] = ()
    energy: Mapping[str, Quantity] = field(default_factory=lambda: _frozen(None))  # annual use, by fuel
    feedstock: Mapping[str, Quantity] = field(default_factory=lambda: _frozen(None))  # 原料用能, by fuel
    renewable_supply: Mapping[str, Quantity] = field(default_factory=lambda: _frozen(None))  # by fuel
    national_plan: str | None = None
    city_consent: str | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        for name in ("energy", "feedstock", "renewable_supply"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "products", tuple(self.products))
        object.__setattr__(self, "types", tuple(self.types))

    @property
    def industry_division(self) -> str:
        """The GB/T 4754 division (大类): the letter and the first two digits, e.g. C26 of C2614."""
        code = self.industry_code.strip().upper()
        return code[:3]


def project_problems(project: Project, fuels: Iterable[str]) -> list[Problem]:
    """What is wrong with ``project`` (empty when nothing is); ``fuels`` are the fuels codelist's codes."""
    known = set(fuels)
    out: list[Problem] = []

    def bad(field_name: str, message: str, message_zh: str, value: object = None) -> None:
        out.append(Problem(message, field=field_name, value=value, message_zh=message_zh))

    for name in ("id", "name", "applicant_name"):
        if not str(getattr(project, name)).strip():
            bad(name, "a value is required", "必须填写", getattr(project, name))
    why = uscc_problem(project.applicant_uscc)
    if why is not None:
        bad("applicant_uscc", f"not a unified social credit code: {why}", "统一社会信用代码无效",
            project.applicant_uscc)
    if not (len(project.region_code) == 6 and project.region_code.isdigit()):
        bad("region_code", "must be a 6-digit GB/T 2260 code", "必须为6位行政区划代码", project.region_code)
    code = project.industry_code.strip().upper()
    if not (2 <= len(code) <= 5 and code[0].isalpha() and code[1:].isdigit()):
        bad("industry_code", "must be a GB/T 4754 code: a letter and 2 to 4 digits", "必须为国民经济行业分类代码",
            project.industry_code)
    for i, line in enumerate(project.products):
        where = f"products[{i}]"
        if not line.product.strip():
            bad(f"{where}.product", "a product code is required", "必须填写产品代码")
        if not line.capacity > 0:
            bad(f"{where}.capacity", "capacity must be greater than 0", "产能必须大于0", line.capacity)
        if (line.unit_consumption is None) != (line.consumption_unit is None):
            bad(f"{where}.consumption_unit", "unit consumption and its unit go together",
                "单位产品能耗与其单位须同时填写")
    for group in ("energy", "feedstock", "renewable_supply"):
        quantities: Mapping[str, Quantity] = getattr(project, group)
        for fuel, quantity in quantities.items():
            where = f"{group}.{fuel}"
            if fuel not in known:
                bad(where, f"{fuel!r} is not in the fuels codelist", "不是燃料代码表中的代码", fuel)
            if not quantity.value >= 0:
                bad(where, "quantity must be 0 or more", "数量不得为负", quantity.value)
            if not is_unit(quantity.unit):
                bad(where, f"unit {quantity.unit!r} is not a unit", "单位无法识别", quantity.unit)
    return out


def check_project(project: Project, fuels: Iterable[str]) -> Project:
    """``project`` when it is well-formed, else :class:`InputError` with every problem."""
    problems = project_problems(project, fuels)
    if problems:
        raise InputError(problems)
    return project
