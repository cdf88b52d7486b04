"""District assessment targets (考核目标): the shipped defaults and the office's overrides, and the arithmetic that
compares a district's intensity falls with them. Pure: frames in, numbers out.

Targets are data (``data/assessment/default_targets.csv``; overrides are rows of the ledger table
``district_assessment_targets``, same indicators, codelist ``assessment_target_indicators``), in percent:

* ``energy_intensity_annual_fall`` / ``co2_intensity_annual_fall``: the year's fall against the previous year;
* ``energy_intensity_cumulative_fall`` / ``co2_intensity_cumulative_fall``: the five-year fall (target year, e.g.
  2025, against ``base_year`` 2020). The fall due by an earlier year of the period is the *pace* target: the same
  yearly rate each year (geometric pace, as the 序时进度 of ``citycarbon.tracking``):
  ``1 − (1 − T)^((year − base) / (target_year − base))``;
* ``energy_total_growth_allowed``: the allowed growth of dual-control energy use over the previous year. Without
  a row the allowance is derived from the annual intensity target and the district's GDP growth:
  ``E_prev × (GDP / GDP_prev) × (1 − annual energy-intensity target)`` (双控 "强度为主、总量为辅",
  国办发〔2024〕39号).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

INDICATORS: tuple[str, ...] = ("energy_intensity_annual_fall", "co2_intensity_annual_fall",
                               "energy_intensity_cumulative_fall", "co2_intensity_cumulative_fall",
                               "energy_total_growth_allowed")
CUMULATIVE_BASE_YEAR = 2020  # 十四五 base year (国发〔2021〕23号); a row's base_year replaces it


@dataclass(frozen=True)
class AssessmentTarget:
    """One target: ``value`` in percent for ``year`` (the target year), with where it comes from."""

    indicator: str
    year: int
    value: float
    unit: str
    document: str
    status: str
    origin: str  # default | district
    base_year: int | None = None
    region: str | None = None
    note: str = ""

    def evidence(self) -> dict[str, Any]:
        return {"kind": "rule", "indicator": self.indicator, "year": self.year, "value": self.value,
                "unit": self.unit, "document": self.document, "status": self.status, "origin": self.origin,
                "base_year": self.base_year, "region": self.region}


@cache
def default_targets() -> tuple[AssessmentTarget, ...]:
    """The shipped default targets (``data/assessment/default_targets.csv``)."""
    from citycarbon.data import data_path, read_csv_file

    frame = read_csv_file(data_path("assessment/default_targets.csv"), dtype={"note": str, "document": str})
    out = []
    for row in frame.itertuples(index=False):
        base = None if pd.isna(row.base_year) else int(row.base_year)
        out.append(AssessmentTarget(str(row.indicator), int(row.year), float(row.value), str(row.unit),
                                    str(row.document), str(row.status), "default", base, None,
                                    "" if pd.isna(row.note) else str(row.note)))
    return tuple(out)


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def find_target(indicator: str, year: int, region: str | None, overrides: pd.DataFrame | None = None,
                *, defaults: tuple[AssessmentTarget, ...] | None = None,
                cumulative: bool = False) -> AssessmentTarget | None:
    """The target of ``indicator`` that applies to ``region`` in ``year``: the office's row for the region
    (``district_assessment_targets``) before the default. A cumulative target applies to every year of its
    period (``base_year`` < year ≤ target year): the nearest target year not before ``year``."""
    def fits(target_year: int) -> bool:
        return target_year >= year if cumulative else target_year == year

    if overrides is not None and not overrides.empty and region is not None:
        rows = overrides[(overrides["indicator"].astype(str) == indicator)
                         & (overrides["region"].astype(str) == str(region))]
        rows = rows[[fits(int(y)) for y in rows["year"]]]
        if not rows.empty:
            row = rows.sort_values("year").iloc[0]
            return AssessmentTarget(indicator, int(row["year"]), float(row["value"]), str(row["unit"]),
                                    _text(row.get("source")), _text(row.get("status")) or "reported", "district",
                                    CUMULATIVE_BASE_YEAR if cumulative else year - 1, str(region))
    found = [t for t in (default_targets() if defaults is None else defaults)
             if t.indicator == indicator and fits(t.year)]
    return min(found, key=lambda t: t.year) if found else None


def pace_fall(target: AssessmentTarget, year: int) -> float:
    """The cumulative fall (fraction) due by ``year`` at an even yearly rate towards ``target`` (percent)."""
    base = target.base_year if target.base_year is not None else CUMULATIVE_BASE_YEAR
    span = target.year - base
    if span <= 0:
        raise ValueError(f"target year {target.year} not after base year {base}")
    done = min(max(year - base, 0), span) / span
    return 1 - (1 - target.value / 100) ** done


def fall(now: float, before: float) -> float:
    """The fall of an intensity from ``before`` to ``now`` as a fraction (negative: it rose)."""
    return 1 - now / before
