"""The city's marginal abatement cost curve (MACC) from the pathway model, and scenario costs against BAU.

Method (issue 17; docs/pathways.md "Costs, NPV and the MACC")
---------------------------------------------------------------
The players are the policy levers (kind ``lever``, not the GDP ``baseline`` group) whose value differs between
the base scenario (BAU) and the scenario. As EPS computes its wedges and cost curves ("calculating wedge
diagrams and cost curves", Energy Innovation, S48 of ``shared/reference/pathway-costs.md`` §6), each lever is
**removed from the full scenario** one at a time (set to the base's value, every other lever as in the
scenario), so each lever is credited with what it adds on top of the rest of the package:

* ``abatement_i = CO2(scenario without i) − CO2(scenario)`` in ``year`` (t CO2/yr): net CO2 on the chosen
  basis (``net_co2_emissions_<basis>_t``: emissions − sinks − removals, so afforestation, blue carbon, BECCS
  and DACCS appear on the curve);
* ``Δcost_i = cost(scenario) − cost(scenario without i)`` in ``year`` (CNY/yr, ``cost_total_cny``: capital
  annualised with the capital recovery factor, operating and fuel costs; :mod:`citycarbon.pathways.costs`);
* ``MAC_i = Δcost_i / abatement_i`` (CNY/t CO2), for levers that abate (``abatement_i`` above
  :data:`ZERO_ABATEMENT_T` and above :data:`NEGLIGIBLE_SHARE` of the package's abatement); levers with about zero
  or negative abatement are listed apart, without a ratio.

The curve sorts the abating levers by MAC (ascending); the cumulative abatement is the x-axis. The package
(scenario against the base: every lever removed at once) and the **interaction residual**
``package − Σ one-at-a-time`` are reported too: removal credits overlapping levers (electrification and a
cleaner grid) less than their joint effect, and the residual says by how much (Σ + residual = package).
Ratios rank negative-cost and small measures badly (Taylor 2012): Δcost (the total) is shown beside each MAC.
Caveats (Kesicki & Ekins 2012): no co-benefits, non-financial costs and taxes outside, one year's view.

With ``runs > 0`` the same configurations run on a Latin-hypercube ensemble of the uncertain and cost
parameters (:func:`citycarbon.pathways.uncertainty.latin_hypercube`, the ensemble's sampling) with common
random numbers: every configuration sees the same draws, so each run's differences are paired. Every
configuration and run is evaluated in one vectorised evaluation (in chunks of
:data:`~citycarbon.pathways.uncertainty.DEFAULT_CHUNK` rows, keeping two numbers per row).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from citycarbon.errors import InputError, Problem
from citycarbon.pathways.uncertainty import (
    DEFAULT_CHUNK,
    PathwayModel,
    PathwayOutput,
    evaluate_in_chunks,
    latin_hypercube,
    model_provenance,
    parameter_arrays,
    scenario_label,
)
from citycarbon.provenance import Provenance

__all__ = ["BASES", "FIRST_YEAR", "LAST_YEAR", "MACC_PERCENTILES", "ZERO_ABATEMENT_T", "MaccEntry", "MaccResult",
           "compare_costs", "macc"]

#: CO2 bases a MACC can be drawn on (the model's CO2_BASES)
BASES: tuple[str, ...] = ("net_inflow", "consumption", "territorial")
#: years a MACC can be asked for (the base year 2020 has no abatement)
FIRST_YEAR, LAST_YEAR = 2021, 2060
#: abatement at or below this (t CO2 a year, or 1e-9 of the scenario's CO2 when larger) counts as none
ZERO_ABATEMENT_T = 1.0
#: a lever abating less than this share of the package is off the curve too: its cost per tonne divides a cost
#: change by a near-zero abatement and says nothing (Taylor 2012: ratio ranking favours small measures)
NEGLIGIBLE_SHARE = 1e-3
#: percentiles of the ensemble MACC
MACC_PERCENTILES: tuple[int, ...] = (5, 50, 95)
METHOD = ("marginal abatement cost curve by removing one lever at a time from the full scenario "
          "(EPS wedge and cost-curve method)")
METHOD_VERSION = "1"
STANDARDS: tuple[str, ...] = (
    "Energy Innovation, Energy Policy Solutions documentation: calculating wedge diagrams and cost curves "
    "(pathway-costs.md S48)",
    "Kesicki & Ekins (2012) Climate Policy 12:219-236 (marginal abatement cost curves: a call for caution)",
    "Taylor (2012) Energy Policy 48:185-193 (the ranking of negative-cost emissions reduction measures)",
)
#: units of the figures of a MACC
UNITS = {"abatement_t": "t CO2/yr", "delta_cost_cny": "CNY/yr", "mac_cny_per_t": "CNY/t CO2",
         "cumulative_t": "t CO2/yr"}


@dataclass
class MaccEntry:
    """One lever of the curve: its settings, abatement, cost and MAC in the year (ensemble percentiles)."""

    lever: str
    name_zh: str
    name_en: str
    group: str
    group_title_zh: str | None
    group_title_en: str | None
    unit: str
    base_value: float
    scenario_value: float
    abatement_t: float
    delta_cost_cny: float
    mac_cny_per_t: float | None
    cumulative_start_t: float | None = None
    cumulative_end_t: float | None = None
    reason: str | None = None  # off the curve: "zero_abatement" | "adds_emissions"
    percentiles: dict[str, dict[str, float | None]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MaccResult:
    """A MACC of ``scenario`` against ``base`` in ``year`` on ``basis``: the curve (sorted by MAC), the levers
    off the curve, the package and the interaction residual."""

    scenario: str
    code: str | None
    base: str
    base_code: str | None
    year: int
    basis: str
    series: str
    runs: int
    seed: int
    levers: list[MaccEntry]
    off_curve: list[MaccEntry]
    package: dict[str, Any]
    sum_of_levers: dict[str, float]
    interaction_residual: dict[str, float]
    co2_scenario_t: float
    co2_base_t: float
    cost_scenario_cny: float
    cost_base_cny: float
    notes: list[str] = field(default_factory=list)
    provenance: Provenance = field(default_factory=lambda: Provenance(METHOD, METHOD_VERSION))

    def to_dict(self) -> dict[str, Any]:
        """The MACC JSON (``citycarbon pathway macc --format json``; docs/pathways.md)."""
        return {"scenario": self.scenario, "code": self.code, "base": self.base, "base_code": self.base_code,
                "year": self.year, "basis": self.basis, "series": self.series, "runs": self.runs,
                "seed": self.seed, "units": dict(UNITS),
                "levers": [e.to_dict() for e in self.levers], "off_curve": [e.to_dict() for e in self.off_curve],
                "package": self.package, "sum_of_levers": self.sum_of_levers,
                "interaction_residual": self.interaction_residual,
                "co2_scenario_t": self.co2_scenario_t, "co2_base_t": self.co2_base_t,
                "cost_scenario_cny": self.cost_scenario_cny, "cost_base_cny": self.cost_base_cny,
                "notes": list(self.notes), "provenance": self.provenance.to_dict()}

    def rows(self) -> list[dict[str, Any]]:
        """Table view: the curve in MAC order (abatement and cumulative in Mt CO2), the levers off the curve,
        then the package and the interaction residual; p5–p95 columns with an ensemble."""

        def mt(value: float | None) -> float | None:
            return None if value is None else value / 1e6

        def row(key: str, name: str, abatement: float | None, mac: float | None, cumulative: float | None,
                cost: float | None, percentiles: dict | None) -> dict[str, Any]:
            out: dict[str, Any] = {"措施 / lever": key, "名称 / name": name,
                                   "减排量 / abatement (Mt CO2)": mt(abatement),
                                   "边际减排成本 / MAC (CNY/t)": mac,
                                   "累计 / cumulative (Mt)": mt(cumulative),
                                   "年成本变化 / Δcost (亿元/yr)": None if cost is None else cost / 1e8}
            if self.runs:
                ab = (percentiles or {}).get("abatement_t") or {}
                mc = (percentiles or {}).get("mac_cny_per_t") or {}
                out.update({"减排 p5 (Mt)": mt(ab.get("p5")), "减排 p95 (Mt)": mt(ab.get("p95")),
                            "MAC p5": mc.get("p5"), "MAC p95": mc.get("p95")})
            return out

        rows = [row(e.lever, e.name_zh, e.abatement_t, e.mac_cny_per_t, e.cumulative_end_t, e.delta_cost_cny,
                    e.percentiles) for e in self.levers]
        rows += [row(e.lever, f"{e.name_zh}（{_REASON_ZH.get(e.reason or '', e.reason)}）", e.abatement_t, None,
                     None, e.delta_cost_cny, e.percentiles) for e in self.off_curve]
        rows.append(row("package", "整体方案 / package", self.package["abatement_t"], self.package["mac_cny_per_t"],
                        None, self.package["delta_cost_cny"], self.package.get("percentiles")))
        rows.append(row("interaction", "交互余项 / interaction residual",
                        self.interaction_residual["abatement_t"], None, None,
                        self.interaction_residual["delta_cost_cny"], None))
        return rows


_REASON_ZH = {"zero_abatement": "减排量约为零", "adds_emissions": "增加排放"}


def _reduce(out: PathwayOutput, year: int, co2_series: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Keep the two numbers a MACC needs per row: net CO2 on the basis and the total cost in ``year``."""
    years = np.asarray(out.years)
    where = np.flatnonzero(years == year)
    if not len(where):
        raise InputError(Problem(f"the model has no year {year} (it covers {int(years[0])}–{int(years[-1])})",
                                 field="year", value=year))
    column = int(where[0])
    name = next((s for s in co2_series if s in out.series), None)
    if name is None:
        raise InputError(Problem("the model has no CO2 series for this basis", field="basis", value=co2_series[0]))
    if "cost_total_cny" not in out.series:
        raise InputError(Problem("the model has no cost series (cost_total_cny)", field="scenario"))
    return {"co2": np.asarray(out.series[name], dtype=float)[:, column],
            "cost": np.asarray(out.series["cost_total_cny"], dtype=float)[:, column],
            "series": np.array([[co2_series.index(name)]])}


def _check_year(year: Any) -> int:
    try:
        value = int(year)
    except (TypeError, ValueError):
        raise InputError(Problem("year must be a whole year", field="year", value=year)) from None
    if value != year or not FIRST_YEAR <= value <= LAST_YEAR:
        raise InputError(Problem(f"year must be a year from {FIRST_YEAR} to {LAST_YEAR}", field="year", value=year))
    return value


def _check_basis(basis: str) -> str:
    if basis not in BASES:
        raise InputError(Problem(f"basis must be one of {', '.join(BASES)}", field="basis", value=basis))
    return basis


def _percentiles(values: np.ndarray, defined: np.ndarray | None = None) -> dict[str, float | None]:
    chosen = values if defined is None else values[defined]
    out: dict[str, float | None] = {f"p{q}": (float(v) if len(chosen) else None) for q, v in zip(
        MACC_PERCENTILES, np.percentile(chosen, MACC_PERCENTILES) if len(chosen) else [np.nan] * 3, strict=True)}
    if defined is not None:
        out["share_defined"] = float(np.mean(defined)) if len(defined) else 0.0
    return out


def _lever_info(model: Any) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    from citycarbon.pathways.attribution import group_titles

    return {str(lv.id): lv for lv in (getattr(model, "levers", None) or ())}, group_titles(model)


def macc(model: PathwayModel, scenario: Any, year: int, *, base: Any = "BAU", basis: str = "consumption",
         runs: int = 0, seed: int = 0, chunk: int = DEFAULT_CHUNK) -> MaccResult:
    """The MACC of ``scenario`` against ``base`` (a scenario or a shipped name) in ``year`` (2021–2060) on
    ``basis`` (``net_inflow`` | ``consumption`` | ``territorial``); ``runs > 0`` adds p5/p50/p95 from a
    Latin-hypercube ensemble with common random numbers (seeded by ``seed``).

    Raises :class:`InputError` naming ``year`` (outside 2021–2060 or the model's years), ``basis``, ``runs``
    (negative) or ``scenario`` (no lever differs from the base; the model has no cost series).
    """
    year, basis = _check_year(year), _check_basis(basis)
    if isinstance(runs, bool) or int(runs) != runs or int(runs) < 0:
        raise InputError(Problem("runs must be a whole number ≥ 0", field="runs", value=runs))
    runs, seed = int(runs), int(seed)
    if isinstance(base, str):
        from citycarbon.pathways.scenarios import load_scenario

        base = load_scenario(base)
    params = parameter_arrays(model)
    xs = np.asarray(model.vector(scenario), dtype=float).reshape(len(params.names))
    xb = np.asarray(model.vector(base), dtype=float).reshape(len(params.names))
    policy = np.array([k == "lever" and g != "baseline" for k, g in zip(params.kind, params.group, strict=True)])
    players = np.flatnonzero(policy & (xs != xb))
    name, code = scenario_label(scenario)
    base_name, base_code = scenario_label(base)
    if not len(players):
        raise InputError(Problem(f"no policy lever of '{name}' differs from '{base_name}': nothing to abate",
                                 field="scenario", value=name))
    notes = []
    others = [params.names[i] for i in np.flatnonzero(~policy & (xs != xb))]
    if others:
        notes.append("kept at the scenario's values in every configuration (not policy levers): " + ", ".join(others))
    configs = np.tile(xs, (len(players) + 2, 1))  # 0 scenario, 1 package base, 2+i scenario without lever i
    configs[1, players] = xb[players]
    for k, i in enumerate(players):
        configs[2 + k, i] = xb[i]
    sample_names: tuple[str, ...] = ()
    if runs:
        _, X, idx, sample_names, _ = latin_hypercube(model, scenario, runs, seed)
        blocks = np.repeat(configs, runs + 1, axis=0)
        blocks.reshape(len(configs), runs + 1, -1)[:, 1:, idx] = X[:, idx][None, :, :]
        rows = blocks
    else:
        rows = configs
    candidates = (f"net_co2_emissions_{basis}_t", "net_co2_emissions_t")
    merged = evaluate_in_chunks(model, rows, functools.partial(_reduce, year=year, co2_series=candidates),
                                chunk=chunk)
    used = candidates[int(merged["series"][0, 0])]
    if used != candidates[0]:
        notes.append(f"the model has no {candidates[0]}: the headline net CO2 ({used}) is used")
    co2 = merged["co2"].reshape(len(configs), runs + 1)
    cost = merged["cost"].reshape(len(configs), runs + 1)
    abatement = co2[2:] - co2[0]  # (players, runs + 1)
    delta = cost[0] - cost[2:]
    package_ab, package_cost = co2[1] - co2[0], cost[0] - cost[1]
    tolerance = max(ZERO_ABATEMENT_T, 1e-9 * abs(float(co2[0, 0])),
                    NEGLIGIBLE_SHARE * abs(float(package_ab[0])))

    levers, titles = _lever_info(model)
    entries: list[MaccEntry] = []
    for k, i in enumerate(players):
        lever_id = params.names[i]
        lever = levers.get(lever_id)
        group = str(params.group[i])
        zh, en = titles.get(group, ("", ""))
        a, c = float(abatement[k, 0]), float(delta[k, 0])
        reason = None if a > tolerance else ("zero_abatement" if a >= -tolerance else "adds_emissions")
        pct = None
        if runs:
            sample_ab, sample_cost = abatement[k, 1:], delta[k, 1:]
            defined = sample_ab > tolerance
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(defined, sample_cost / np.where(defined, sample_ab, 1.0), np.nan)
            pct = {"abatement_t": _percentiles(sample_ab), "delta_cost_cny": _percentiles(sample_cost),
                   "mac_cny_per_t": _percentiles(ratio, defined)}
        entries.append(MaccEntry(
            lever=lever_id, name_zh=str(getattr(lever, "name_zh", "") or lever_id),
            name_en=str(getattr(lever, "name_en", "") or lever_id), group=group, group_title_zh=zh or None,
            group_title_en=en or None, unit=str(getattr(lever, "unit", "") or params.unit[i]),
            base_value=float(xb[i]), scenario_value=float(xs[i]), abatement_t=a, delta_cost_cny=c,
            mac_cny_per_t=None if reason else c / a, reason=reason, percentiles=pct))
    curve = sorted((e for e in entries if e.reason is None), key=lambda e: float(e.mac_cny_per_t or 0.0))
    start = 0.0
    for e in curve:
        e.cumulative_start_t, e.cumulative_end_t = start, start + e.abatement_t
        start += e.abatement_t
    off = [e for e in entries if e.reason is not None]

    total_ab = sum(e.abatement_t for e in entries)
    total_cost = sum(e.delta_cost_cny for e in entries)
    pa, pc = float(package_ab[0]), float(package_cost[0])
    package: dict[str, Any] = {"abatement_t": pa, "delta_cost_cny": pc,
                               "mac_cny_per_t": pc / pa if pa > tolerance else None, "percentiles": None}
    if runs:
        defined = package_ab[1:] > tolerance
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(defined, package_cost[1:] / np.where(defined, package_ab[1:], 1.0), np.nan)
        package["percentiles"] = {"abatement_t": _percentiles(package_ab[1:]),
                                  "delta_cost_cny": _percentiles(package_cost[1:]),
                                  "mac_cny_per_t": _percentiles(ratio, defined)}
    provenance = Provenance(METHOD, METHOD_VERSION, standards=list(STANDARDS), parameters={
        "scenario": name, "code": code, "base": base_name, "base_code": base_code, "year": year, "basis": basis,
        "series": used, "runs": runs, "seed": seed, "configurations": len(configs), "rows": len(rows),
        "sampled_parameters": list(sample_names), **model_provenance(model)})
    return MaccResult(
        scenario=name, code=code, base=base_name, base_code=base_code, year=year, basis=basis, series=used,
        runs=runs, seed=seed, levers=curve, off_curve=off, package=package,
        sum_of_levers={"abatement_t": total_ab, "delta_cost_cny": total_cost},
        interaction_residual={"abatement_t": pa - total_ab, "delta_cost_cny": pc - total_cost},
        co2_scenario_t=float(co2[0, 0]), co2_base_t=float(co2[1, 0]), cost_scenario_cny=float(cost[0, 0]),
        cost_base_cny=float(cost[1, 0]), notes=notes, provenance=provenance)


# --------------------------------------------------------------------------------------------------
# scenario costs against a base (the cost view of the cockpit)


def compare_costs(model: Any, scenarios: Sequence[Any], versus: Any = "BAU") -> dict[str, Any]:
    """Central costs of ``scenarios`` against ``versus`` (a scenario or a shipped name), one evaluation:
    per scenario the NPV (CNY at the base year, annual costs 2021–2060 discounted at the discount rate), the
    annual cost by sector and by kind (CNY/yr, capital annualised) and the differences to ``versus``.
    The shape is documented in docs/pathways.md ("Costs, NPV and the MACC")."""
    from citycarbon.pathways.costs import KINDS, SECTORS, npv

    if isinstance(versus, str):
        from citycarbon.pathways.scenarios import load_scenario

        versus = load_scenario(versus)
    if not scenarios:
        raise InputError(Problem("no scenario to compare", field="scenario"))
    X = np.vstack([np.asarray(model.vector(s), dtype=float) for s in (versus, *scenarios)])
    out = model.evaluate(X)
    if "cost_total_cny" not in out.series:
        raise InputError(Problem("the model has no cost series (cost_total_cny)", field="scenario"))
    keys = ["cost_total_cny", *(f"cost_{s}_cny" for s in SECTORS), *(f"cost_{k}_cny" for k in KINDS)]
    keys = [k for k in keys if k in out.series]
    values = {k: np.asarray(out.series[k], dtype=float) for k in keys}
    present = npv(values["cost_total_cny"], np.asarray(out.series["discount_factor"], dtype=float))
    versus_name, versus_code = scenario_label(versus)

    every = (versus, *scenarios)

    def document(i: int) -> dict[str, Any]:
        name, code = scenario_label(every[i])
        return {"scenario": name, "code": code, "name_zh": getattr(every[i], "name_zh", None),
                "npv_cny": float(present[i]), "npv_vs_versus_cny": float(present[i] - present[0]),
                "annual": {k: [float(v) for v in values[k][i]] for k in keys},
                "vs_versus": {k: [float(v) for v in values[k][i] - values[k][0]] for k in keys}}

    rate = None
    if "discount_rate" in model.parameters.names:
        rate = float(X[0, list(model.parameters.names).index("discount_rate")])
    return {"years": [int(y) for y in out.years], "versus": versus_name, "versus_code": versus_code,
            "discount_rate": rate, "base_year": int(out.years[0]), "sectors": list(SECTORS), "kinds": list(KINDS),
            "units": {"annual": "CNY/yr", "npv": "CNY", "discount_rate": "1/yr"},
            "versus_result": document(0), "scenarios": [document(i) for i in range(1, len(X))]}
