"""Building small sub-plans for the "1+N" tests (the illustrative fixtures of ``tests/fixtures/subplans``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from citycarbon.plan import Plan, validate_plan_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "subplans"


def fixture_text(name: str) -> str:
    return (FIXTURES / f"{name}.yaml").read_text(encoding="utf-8")


def fixture_data(name: str) -> dict[str, Any]:
    return yaml.safe_load(fixture_text(name))


def target(tid: str, indicator: str, year: int, value: float | None, unit: str, comparison: str = "at_least",
           **extra: Any) -> dict[str, Any]:
    return {"id": tid, "indicator": indicator, "year": year, "value": value, "unit": unit, "comparison": comparison,
            "clause": "示例条款", "clause_ref": "示例", "title_zh": f"示例目标{tid}", "title_en": tid, **extra}


def subplan_data(code: str, *, kind: str = "district", parent: str = "dalian", org: str = "d210283",
                 region_code: str = "210283", targets: list[dict[str, Any]] | None = None,
                 carries: list[Any] | None = None, sector: str | None = None) -> dict[str, Any]:
    data = copy.deepcopy(fixture_data("zhuanghe"))
    meta = data["meta"]
    meta.update(code=code, parent=parent, kind=kind, org=org, region_code=region_code,
                title_zh=f"示例方案{code}", title_en=f"example {code}")
    if kind == "sector":
        meta["sector"] = sector or "energy"
    data["targets"] = targets or []
    data["carries"] = carries or []
    return data


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def subplan(code: str, **kwargs: Any) -> Plan:
    return validate_plan_text(dump(subplan_data(code, **kwargs)), f"{code}.yaml")
