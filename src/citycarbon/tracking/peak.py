"""The peak judgement (达峰判定) on each CO2 basis, the worse-basis rule and the neutrality verdict.

Method (docs/tracking.md "CO2 on both bases"):

* **bases**: CO2 is accounted on the provincial net-inflow rule (``net_inflow``: local combustion + net
  electricity inflow × grid factor, a net outflow deducted; 省级温室气体清单编制指南) and on the consumption
  basis (``consumption``: electricity and heat consumed in the city × grid/heat factor), both by
  :mod:`citycarbon.accounting` (``AccountingOptions.electricity_co2_basis``);
* **peak so far**: the year of the highest value up to the latest year (the first such year on a tie);
* **plateau**: the years whose value is within ``plateau_margin`` of the peak, x ≥ (1 − m) · x_peak;
* **trend** of the last ``trend_years`` years t−n+1 … t: change = x_t / x_{t−n+1} − 1; ``rising`` above
  +m, ``falling`` below −m, ``flat`` otherwise (m the same plateau margin);
* **deciding basis**: a peak (or neutrality) target is rated on the worse basis by default (the lower
  warning level; on a tie the later projected peak, then the later peak so far, then the net-inflow basis),
  or on one named basis (``peak_rule_basis`` of the accounting profile);
* **neutrality reached**: the projected net emissions including sinks in the target year, on the deciding
  basis, are at most the target value (0 t). A neutrality target is never rated 三级 otherwise.

The margin and the trend window are data (``data/tracking/warning_rules.yaml``, ``peak_judgement``) with their
source and rationale. Everything here is pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem

#: the two CO2 bases, in the order they are shown (net inflow first: the provincial rule)
BASES: tuple[str, ...] = ("net_inflow", "consumption")
#: how a peak or neutrality target picks its basis
BASIS_RULES: tuple[str, ...] = ("worse", *BASES)
#: indicators whose value is a CO2 figure and so differ by basis (the tracked series of a target)
CO2_SERIES: tuple[str, ...] = ("co2_emissions_t", "co2_energy_t", "co2_intensity_t_per_10k_yuan",
                               "net_co2_emissions_t")
#: indicators whose target means carbon neutrality (net emissions including sinks at most the value)
NEUTRALITY_INDICATORS: tuple[str, ...] = ("net_co2_emissions_t",)
RULES_FILE = "tracking/warning_rules.yaml"
Trend = Literal["rising", "flat", "falling"]


@dataclass(frozen=True)
class PeakRule:
    """The peak judgement's parameters, as data (``warning_rules.yaml`` → ``peak_judgement``)."""

    plateau_margin: float
    trend_years: int
    source: str
    rationale: str
    status: str


@cache
def _load_peak_rule(path: str) -> PeakRule:
    file = Path(path).name
    with open(path, encoding="utf-8") as handle:
        raw = (yaml.safe_load(handle) or {}).get("peak_judgement")
    if not isinstance(raw, dict):
        raise InputError(Problem("a rules file needs a 'peak_judgement' mapping", file=file,
                                 field="peak_judgement"))
    problems = []
    margin: Any = raw.get("plateau_margin")
    years: Any = raw.get("trend_years")
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0 <= margin < 1:
        problems.append(Problem("plateau_margin must be a fraction in [0, 1)", file=file,
                                field="peak_judgement.plateau_margin", value=margin))
    if isinstance(years, bool) or not isinstance(years, int) or years < 2:
        problems.append(Problem("trend_years must be an integer of at least 2", file=file,
                                field="peak_judgement.trend_years", value=years))
    for key in ("source", "rationale", "status"):
        if not raw.get(key):
            problems.append(Problem(f"{key} is required", file=file, field=f"peak_judgement.{key}"))
    if problems:
        raise InputError(problems)
    return PeakRule(float(margin), int(years), str(raw["source"]), str(raw["rationale"]), str(raw["status"]))


def load_peak_rule(path: str | Path | None = None) -> PeakRule:
    """The peak judgement's margin and trend window (default: the shipped rules file)."""
    return _load_peak_rule(str(Path(path) if path is not None else data_path(RULES_FILE)))


def check_basis_rule(rule: object, where: str = "peak_rule_basis") -> str:
    """``rule`` if it is one of :data:`BASIS_RULES`; raises :class:`InputError` otherwise."""
    if rule not in BASIS_RULES:
        from citycarbon.codelists import nearest

        raise InputError(Problem("peak_rule_basis must be worse, net_inflow or consumption", field=where,
                                 value=rule, suggestion=nearest(str(rule), list(BASIS_RULES))))
    return str(rule)


@dataclass(frozen=True)
class BasisPeak:
    """The peak judgement of one CO2 series (one basis)."""

    basis: str
    peak_year: int | None
    peak_value: float | None
    plateau_years: tuple[int, ...]
    latest_year: int | None
    latest_value: float | None
    trend_from: int | None
    trend_change: float | None
    trend: Trend | None

    def to_dict(self) -> dict[str, Any]:
        return {"basis": self.basis, "peak_year": self.peak_year, "peak_value": self.peak_value,
                "plateau_years": list(self.plateau_years), "latest_year": self.latest_year,
                "latest_value": self.latest_value, "trend_from": self.trend_from,
                "trend_change": self.trend_change, "trend": self.trend}


def judge_peak(history: Mapping[int, float], rule: PeakRule, *, basis: str = "net_inflow",
               upto: int | None = None) -> BasisPeak:
    """Peak so far, plateau and the last years' trend of ``history`` (year → CO2) up to ``upto``."""
    series = {int(y): float(v) for y, v in history.items() if v is not None and math.isfinite(float(v))
              and (upto is None or int(y) <= upto)}
    if not series:
        return BasisPeak(basis, None, None, (), None, None, None, None, None)
    years = sorted(series)
    peak_year = max(years, key=lambda y: (series[y], -y))
    peak = series[peak_year]
    floor = (1 - rule.plateau_margin) * peak if peak >= 0 else (1 + rule.plateau_margin) * peak
    plateau = tuple(y for y in years if series[y] >= floor)
    latest = years[-1]
    window = years[-rule.trend_years:]
    trend_from: int | None = None
    change: float | None = None
    trend: Trend | None = None
    if len(window) == rule.trend_years and series[window[0]] > 0:
        trend_from = window[0]
        change = series[latest] / series[window[0]] - 1
        trend = ("rising" if change > rule.plateau_margin else
                 "falling" if change < -rule.plateau_margin else "flat")
    return BasisPeak(basis, peak_year, peak, plateau, latest, series[latest], trend_from, change, trend)


def worse_basis(keys: Mapping[str, tuple[float, ...]], rule: str = "worse") -> str | None:
    """The deciding basis: ``rule`` itself when it names a basis with a key, else the basis whose key is the
    smallest (keys are ordered so that smaller = worse), ties going to the earlier basis of :data:`BASES`."""
    check_basis_rule(rule)
    present = [b for b in BASES if b in keys]
    if not present:
        return None
    if rule != "worse":
        return rule if rule in keys else present[0]
    return min(present, key=lambda b: keys[b])


def peak_key(level: int | None, projected_peak: float | None, peak_so_far: int | None) -> tuple[float, ...]:
    """Sort key of a peak rating (smaller = worse): level, then a later (or no) projected peak, then a later
    peak so far. An unrated basis sorts last."""
    return (float(level) if level is not None else math.inf,
            -(projected_peak if projected_peak is not None else math.inf),
            -(float(peak_so_far) if peak_so_far is not None else -math.inf))


def neutrality_key(level: int | None, projected_net: float | None) -> tuple[float, ...]:
    """Sort key of a neutrality rating (smaller = worse): level, then the higher projected net emissions."""
    return (float(level) if level is not None else math.inf,
            -(projected_net if projected_net is not None else -math.inf))


@dataclass(frozen=True)
class NeutralityVerdict:
    """Whether a projection reaches carbon neutrality: net CO2 incl. sinks ≤ ``target_value`` by the target
    year. ``reached`` is None when there is no projection."""

    reached: bool | None
    projected_net_t: float | None
    year: int
    target_value: float
    basis: str | None
    source: str | None

    @property
    def shortfall(self) -> float | None:
        """Projected net emissions above the target value (t; larger = worse, ≤ 0 = reached)."""
        return None if self.projected_net_t is None else self.projected_net_t - self.target_value

    def to_dict(self) -> dict[str, Any]:
        return {"reached": self.reached, "projected_net_t": self.projected_net_t, "year": self.year,
                "target_value": self.target_value, "basis": self.basis, "source": self.source,
                "shortfall_t": self.shortfall}


def neutrality_verdict(projected_net_t: float | None, year: int, *, target_value: float = 0.0,
                       basis: str | None = None, source: str | None = None) -> NeutralityVerdict:
    """The one neutrality judgement used by tracking (trend projection) and pathways (a scenario run):
    reached when the projected net emissions including sinks in ``year`` are at most ``target_value``."""
    if projected_net_t is None or not math.isfinite(projected_net_t):
        return NeutralityVerdict(None, None, year, target_value, basis, source)
    return NeutralityVerdict(projected_net_t <= target_value, float(projected_net_t), year, target_value, basis,
                             source)


__all__ = ["BASES", "BASIS_RULES", "CO2_SERIES", "NEUTRALITY_INDICATORS", "BasisPeak", "NeutralityVerdict",
           "PeakRule", "check_basis_rule", "judge_peak", "load_peak_rule", "neutrality_key",
           "neutrality_verdict", "peak_key", "worse_basis"]
