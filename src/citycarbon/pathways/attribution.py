"""Attribution of the gap between a base scenario (BAU) and a scenario to lever groups: Shapley values.

Method
------
The players are the lever groups whose settings differ between the two scenarios (a group's "move" sets
all its parameters from the base values to the scenario's). The value of a coalition ``S`` is the model
output with the groups in ``S`` at the scenario's settings and every other group at the base's. Each
group's Shapley value (Shapley 1953, Contributions to the Theory of Games II:307–317) is its marginal
contribution averaged over orderings of the groups. Sampled (Castro, Gómez & Tejada 2009, Computers &
Operations Research 36:1726–1730): ``permutations`` random orderings drawn with ``seed``. Each ordering
walks from the base to the scenario one group at a time, so its marginal contributions telescope to
``f(scenario) − f(base)``: the attributed shares sum to the total gap with no residual other than
floating-point rounding (≈ 1e-15 relative), for every year and for the cumulative sum. With ``exact=True``
every coalition is evaluated (``2^G`` runs) and the exact Shapley weights ``|S|!(G−|S|−1)!/G!`` are used.

LMDI of a pathway
-----------------
:func:`lmdi_of_pathway` decomposes the change of a pathway's CO2 between its base year and a later year with
the LMDI-I module (:mod:`citycarbon.decomposition`; Ang 2005, Table 1) over the identity
``C = Σ_i G · (E_i / G) · (C_i / E_i)``: activity (GDP), energy intensity and carbon factor (CO2 per tce,
process CO2 included). When the model reports energy and CO2 by sector (``energy_<sector>_tce``,
``co2_<sector>_t`` for every sector of :data:`SECTORS`) the categories are the sectors; otherwise the
city as a whole (``gdp_10k_yuan``, ``energy_consumption_tce``, ``co2_emissions_t``).

All coalitions the orderings visit are deduplicated and evaluated in **one** vectorised ``evaluate`` call.
Interactions between groups (e.g. electrification × a cleaner grid) are shared between the groups
involved, as Shapley values do; the per-year contributions are the data of a wedge chart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from citycarbon.errors import InputError, Problem
from citycarbon.pathways.uncertainty import PathwayModel, model_provenance, parameter_arrays, scenario_label
from citycarbon.provenance import Provenance

__all__ = ["KAYA_FACTORS", "LMDI_CATEGORIES", "LMDI_OTHER_TERMS", "SECTORS", "SECTOR_FACTORS", "SectorLmdi",
           "ShapleyResult", "attach_lmdi", "group_titles", "lmdi_between", "lmdi_of_pathway", "pathway_kaya_input",
           "pathway_sector_input", "shapley"]

#: factors of the pathway Kaya identity C = Σ_i G · (E_i / G) · (C_i / E_i)
KAYA_FACTORS: tuple[str, ...] = ("activity", "energy_intensity", "carbon_factor")
#: sectors used when the model reports energy (``energy_<sector>_tce``) and CO2 (``co2_<sector>_t``) by sector
SECTORS: tuple[str, ...] = ("industry", "buildings", "transport", "agriculture")

METHOD_VERSION = "1"
STANDARDS: tuple[str, ...] = (
    "Shapley (1953) Contributions to the Theory of Games II:307-317",
    "Castro, Gomez & Tejada (2009) Computers & Operations Research 36:1726-1730 (sampled Shapley values)",
)


@dataclass
class ShapleyResult:
    """Per-group contributions to ``f(scenario) − f(base)`` of a series, per year and cumulative."""

    base: str
    scenario: str
    code: str | None
    output: str
    years: np.ndarray
    groups: tuple[str, ...]
    contributions: np.ndarray  # (G, n_years): Shapley value of each group per year (scenario − base units)
    base_values: np.ndarray  # (n_years,)
    scenario_values: np.ndarray  # (n_years,)
    permutations: int | None  # None = exact
    seed: int | None
    runs: int  # rows evaluated (distinct coalitions)
    standard_error: np.ndarray | None = None  # (G,) of the cumulative contribution, sampled only
    parameters_by_group: dict[str, list[str]] = field(default_factory=dict)
    titles: dict[str, tuple[str, str]] = field(default_factory=dict)  # group -> (title_zh, title_en)
    provenance: Provenance | None = None
    #: issue 17 (lmdi): JSON of the LMDI decompositions attached by :func:`attach_lmdi` ("lmdi", "lmdi_between",
    #: "lmdi_by_sector"), added to :meth:`to_dict` as they are
    decompositions: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> np.ndarray:
        """``f(scenario) − f(base)`` per year."""
        return self.scenario_values - self.base_values

    @property
    def cumulative(self) -> np.ndarray:
        """(G,) contribution of each group to the cumulative (summed over years) gap."""
        return self.contributions.sum(axis=1)

    def shares(self) -> np.ndarray:
        """(G,) each group's share of the cumulative gap (sums to 1 when the gap is non-zero)."""
        total = float(self.total.sum())
        return self.cumulative / total if total != 0 else np.zeros(len(self.groups))

    def wedges(self) -> dict:
        """Wedge-chart data: base and scenario lines and each group's avoided amount (base − scenario share)."""
        return {"years": [int(y) for y in self.years], "base": self.base_values.tolist(),
                "scenario": self.scenario_values.tolist(),
                "avoided": {g: (-self.contributions[j]).tolist() for j, g in enumerate(self.groups)}}

    def to_dict(self) -> dict:
        shares = self.shares()
        se = self.standard_error
        return {
            "base": self.base, "scenario": self.scenario, "code": self.code, "output": self.output,
            "method": "exact" if self.permutations is None else "sampled", "permutations": self.permutations,
            "seed": self.seed, "runs": self.runs,
            "total_cumulative": float(self.total.sum()),
            "groups": [{"group": g, "title_zh": self.titles.get(g, ("", ""))[0] or None,
                        "title_en": self.titles.get(g, ("", ""))[1] or None,
                        "cumulative": float(self.cumulative[j]), "share": float(shares[j]),
                        "standard_error": None if se is None else float(se[j]),
                        "parameters": self.parameters_by_group.get(g, [])} for j, g in enumerate(self.groups)],
            "wedges": self.wedges(),
            "provenance": self.provenance.to_dict() if self.provenance else None,
            **self.decompositions,
        }

    def rows(self) -> list[dict]:
        shares = self.shares()
        return [{"措施组 / lever group": g, "名称 / title": self.titles.get(g, (g, g))[0],
                 "累计贡献 / cumulative": float(self.cumulative[j]),
                 "占比 / share": float(shares[j])} for j, g in enumerate(self.groups)]


def group_titles(model: Any) -> dict[str, tuple[str, str]]:
    """Titles of the plan's task groups (``(三)加快构建…``) when the model carries its plan, by group number."""
    plan = getattr(model, "plan", None)
    groups = getattr(plan, "task_groups", None) or []
    return {str(g.number): (f"{getattr(g, 'label_zh', '')}{g.title_zh}", str(getattr(g, "title_en", "")))
            for g in groups}


def _players(params: Any, xb: np.ndarray, xs: np.ndarray, groups: str | Mapping[str, str]
             ) -> tuple[tuple[str, ...], list[np.ndarray], dict[str, list[str]]]:
    differ = np.flatnonzero(xb != xs)
    if isinstance(groups, Mapping):
        key = [str(groups.get(params.names[i], params.group[i])) for i in range(len(params.names))]
    elif groups in ("group", "lever group"):
        key = list(params.group)
    elif groups == "parameter":
        key = list(params.names)
    else:
        raise InputError(Problem("groups must be 'group', 'parameter' or a mapping name → group", field="groups",
                                 value=groups))
    names = tuple(sorted(dict.fromkeys(key[i] for i in differ),  # task groups in plan order, then the others
                         key=lambda g: (0, int(g), "") if g.isdigit() else (1, 0, g)))
    members = [np.array([i for i in differ if key[i] == g], dtype=np.intp) for g in names]
    by_group = {g: [params.names[i] for i in m] for g, m in zip(names, members, strict=True)}
    return names, members, by_group


def _series(out: Any, output: str) -> np.ndarray:
    if output not in out.series:
        raise InputError(Problem(f"the model has no series '{output}'", field="output", value=output))
    return np.asarray(out.series[output], dtype=float)


def shapley(model: PathwayModel, base_scenario: Any, scenario: Any, *, groups: str | Mapping[str, str] = "group",
            permutations: int = 200, seed: int = 0, output: str = "co2_emissions_t",
            exact: bool = False) -> ShapleyResult:
    """Shapley values of each lever group for ``f(scenario) − f(base_scenario)`` of the series ``output``."""
    params = parameter_arrays(model)
    p = len(params.names)
    xb = np.asarray(model.vector(base_scenario), dtype=float).reshape(p)
    xs = np.asarray(model.vector(scenario), dtype=float).reshape(p)
    names, members, by_group = _players(params, xb, xs, groups)
    n_groups = len(names)
    if not exact and int(permutations) < 1:
        raise InputError(Problem("permutations must be ≥ 1", field="permutations", value=permutations))
    if exact and n_groups > 20:
        raise InputError(Problem(f"exact Shapley values over {n_groups} groups need 2^{n_groups} runs; sample "
                                 "permutations instead", field="exact", value=n_groups))
    rng = np.random.default_rng(seed)
    if exact or n_groups == 0:
        exact = True
        codes = np.arange(2 ** n_groups, dtype=np.int64)
        masks = ((codes[:, None] >> np.arange(n_groups)) & 1).astype(bool)
    else:
        orders = np.array([rng.permutation(n_groups) for _ in range(int(permutations))], dtype=np.intp)
        steps = np.zeros((len(orders), n_groups + 1, n_groups), dtype=bool)
        for k in range(1, n_groups + 1):
            steps[:, k] = steps[:, k - 1]
            steps[np.arange(len(orders)), k, orders[:, k - 1]] = True
        masks, inverse = np.unique(steps.reshape(-1, n_groups), axis=0, return_inverse=True)
    X = np.tile(xb, (len(masks), 1))
    for j, idx in enumerate(members):
        rows = masks[:, j]
        X[np.ix_(rows, idx)] = xs[idx]
    out = model.evaluate(X)  # the one evaluate call
    values, years = _series(out, output), np.asarray(out.years)  # (U, n_years)
    full = masks.all(axis=1)
    empty = ~masks.any(axis=1)
    base_values, scenario_values = values[np.flatnonzero(empty)[0]], values[np.flatnonzero(full)[0]]
    se = None
    if exact:
        sizes = masks.sum(axis=1)
        weight = np.array([math.factorial(s) * math.factorial(n_groups - s - 1) / math.factorial(n_groups)
                           if s < n_groups else 0.0 for s in range(n_groups + 1)])
        contributions = np.zeros((n_groups, values.shape[1]))
        for j in range(n_groups):
            without = np.flatnonzero(~masks[:, j])
            with_j = without + (1 << j)  # codes are row numbers
            contributions[j] = (weight[sizes[without]][:, None] * (values[with_j] - values[without])).sum(axis=0)
        n_perm = None
    else:
        path = values[inverse.reshape(len(orders), n_groups + 1)]  # (P, G+1, years)
        marginal = np.diff(path, axis=1)  # (P, G, years) in each ordering's order
        per_group = np.empty_like(marginal)
        per_group[np.arange(len(orders))[:, None], orders] = marginal
        contributions = per_group.mean(axis=0)
        se = per_group.sum(axis=2).std(axis=0, ddof=1) / math.sqrt(len(orders)) if len(orders) > 1 else None
        n_perm = int(permutations)
    base_name, _ = scenario_label(base_scenario)
    name, code = scenario_label(scenario)
    provenance = Provenance("Shapley attribution of lever groups" + (" (exact)" if exact else " (sampled)"),
                            METHOD_VERSION, standards=list(STANDARDS),
                            parameters={"base": base_name, "scenario": name, "code": code, "output": output,
                                        "permutations": n_perm, "seed": seed, "groups": list(names),
                                        **model_provenance(model)})
    return ShapleyResult(base=base_name, scenario=name, code=code, output=output, years=years, groups=names,
                         contributions=contributions, base_values=base_values, scenario_values=scenario_values,
                         permutations=n_perm, seed=None if exact else int(seed), runs=len(masks),
                         standard_error=se, parameters_by_group=by_group, titles=group_titles(model),
                         provenance=provenance)


def pathway_kaya_input(model: PathwayModel, scenario: Any, *, by_sector: bool = True) -> pd.DataFrame:
    """Long LMDI input (``year, category, factor, value, unit``) of one pathway run (see module docstring).

    ``by_sector``: sectors when the output has ``energy_<sector>_tce`` and ``co2_<sector>_t`` for every sector
    and no ``co2_<sector>_allocated_t`` (a model whose sector CO2 sums to its total); the Dalian model's
    ``co2_<sector>_t`` is direct CO2 only, so it is decomposed as the city here and by sector with
    :func:`pathway_sector_input`."""
    x = np.asarray(model.vector(scenario), dtype=float)[None, :]
    out = model.evaluate(x)
    series, years = out.series, np.asarray(out.years)
    needed = ("gdp_10k_yuan", "energy_consumption_tce", "co2_emissions_t")
    missing = [name for name in needed if name not in series]
    if missing:
        raise InputError([Problem("the model output lacks a series the Kaya identity needs", field="series",
                                  value=name) for name in missing])
    gdp = np.asarray(series["gdp_10k_yuan"], dtype=float)[0]
    by_sector = by_sector and all(f"energy_{s}_tce" in series and f"co2_{s}_t" in series for s in SECTORS) \
        and not any(f"co2_{s}_allocated_t" in series for s in SECTORS)
    if by_sector:
        parts = {s: (np.asarray(series[f"energy_{s}_tce"], dtype=float)[0],
                     np.asarray(series[f"co2_{s}_t"], dtype=float)[0]) for s in SECTORS}
    else:
        parts = {"city": (np.asarray(series["energy_consumption_tce"], dtype=float)[0],
                          np.asarray(series["co2_emissions_t"], dtype=float)[0])}
    frames = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for category, (energy, co2) in parts.items():
            intensity = np.where(gdp > 0, energy / gdp, 0.0)
            factor = np.where(energy > 0, co2 / energy, 0.0)
            for name, values, unit in (("activity", gdp, "10^4 CNY"), ("energy_intensity", intensity,
                                                                       "tce/(10^4 CNY)"),
                                       ("carbon_factor", factor, "t/tce")):
                frames.append(pd.DataFrame({"year": years.astype(int), "category": category, "factor": name,
                                            "value": values, "unit": unit}))
    return pd.concat(frames, ignore_index=True)


def lmdi_of_pathway(model: PathwayModel, scenario: Any, year: int, *, base_year: int | None = None,
                    chain: bool = False, by: str | None = None) -> Any:
    """LMDI-I of the pathway's CO2 from ``base_year`` (default: the first model year) to ``year``.

    ``chain=True`` chains consecutive years (Ang 2015). ``by=None`` or ``"city"``: a
    :class:`citycarbon.decomposition.LmdiResult` of the Kaya identity (:func:`pathway_kaya_input`) whose additive
    effects (t CO2) sum to the change of the pathway's CO2 between the two years; ``by="sector"``: a
    :class:`SectorLmdi` over the sectors' value added (:func:`pathway_sector_input`, issue 17).
    """
    from citycarbon.decomposition import decompose_lmdi, decompose_lmdi_chain

    if by == "sector":
        return _sector_lmdi_of_pathway(model, scenario, int(year), base_year, chain)
    if by not in (None, "city"):
        raise InputError(Problem("by must be 'city' or 'sector'", field="by", value=by))
    data = pathway_kaya_input(model, scenario, by_sector=by is None)
    first = int(data["year"].min())
    start = first if base_year is None else int(base_year)
    name, _ = scenario_label(scenario)
    source = f"pathway {name}"
    if chain:
        years = [y for y in sorted(data["year"].unique()) if start <= y <= int(year)]
        return decompose_lmdi_chain(data, years, source=source)
    return decompose_lmdi(data, start=start, end=int(year), source=source)


# issue 17 (lmdi): LMDI of pathways by sector (value added by sector) ---------------------------------------
#: factors of the by-sector identity C_i = G · (VA_i / G) · (E_i / VA_i) · (C_i / E_i)
SECTOR_FACTORS: tuple[str, ...] = ("activity", "structure", "energy_intensity", "carbon_factor")
#: categories of the by-sector LMDI → (energy, allocated CO2, value added; None = GDP: no structure effect).
#: Buildings are split into households (no value added: on GDP, the driver of the model's residential activity)
#: and the services' buildings (on tertiary value added); transport is on tertiary value added (交通运输、仓储和
#: 邮政业 is a tertiary industry; households' cars included, the model has no split).
LMDI_CATEGORIES: dict[str, tuple[str, str, str | None]] = {
    "industry": ("energy_industry_tce", "co2_industry_allocated_t", "value_added_industry_10k_yuan"),
    "agriculture": ("energy_agriculture_tce", "co2_agriculture_allocated_t", "value_added_agriculture_10k_yuan"),
    "buildings_services": ("energy_buildings_tce - energy_households_tce",
                           "co2_buildings_allocated_t - co2_households_allocated_t", "value_added_services_10k_yuan"),
    "buildings_households": ("energy_households_tce", "co2_households_allocated_t", None),
    "transport": ("energy_transport_tce", "co2_transport_allocated_t", "value_added_services_10k_yuan"),
}
#: CO2 outside the sectors, each its own additive term: name → (series, sign in co2_emissions_t)
LMDI_OTHER_TERMS: dict[str, tuple[str, float]] = {
    "process": ("co2_process_t", 1.0), "ccus": ("ccus_t", -1.0), "supply_remainder": ("co2_supply_remainder_t", 1.0)}
#: table labels (zh / en) of the categories, factors and non-sector terms
LMDI_TITLES: dict[str, str] = {
    "industry": "工业 industry", "agriculture": "农业 agriculture",
    "buildings_services": "公共建筑 services' buildings",
    "buildings_households": "居民生活 households", "transport": "交通 transport", "activity": "经济规模 activity",
    "structure": "产业结构 structure", "energy_intensity": "能耗强度 energy intensity",
    "carbon_factor": "碳排放系数 carbon factor", "process": "工业过程 process CO2", "ccus": "碳捕集 CCUS",
    "supply_remainder": "电力热力供应余项 supply remainder"}
SECTOR_STANDARDS: tuple[str, ...] = (
    "Ang, B.W. (2005) Energy Policy 33:867-871, Table 1 (LMDI-I, additive)",
    "Ang, B.W. (2015) Energy Policy 86:233-238 (LMDI-I recommended; chaining)",
    "Ang, B.W. & Liu, N. (2007) Energy Policy 35:238-246 (zero values)",
)


def _column(series: Mapping[str, np.ndarray], expression: str, row: int) -> np.ndarray:
    """Row ``row`` of a series, or of ``a - b`` of two series."""
    names = [n.strip() for n in expression.split(" - ")]
    missing = [n for n in names if n not in series]
    if missing:
        raise InputError([Problem("the model output lacks a series the by-sector LMDI needs (issue 17: value added, "
                                  "energy and allocated CO2 by sector)", field="series", value=n) for n in missing])
    value = np.asarray(series[names[0]], dtype=float)[row]
    for name in names[1:]:
        value = value - np.asarray(series[name], dtype=float)[row]
    return value


def pathway_sector_input(series: Mapping[str, np.ndarray], row: int = 0, columns: Any = None,
                         labels: Any = None) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray]:
    """Long LMDI input (``year, category, factor, value, unit``) of the by-sector identity for run ``row`` of a
    model output's ``series`` (years in ``columns``, labelled ``labels``), the non-sector terms (t CO2 with their
    sign) and the headline CO2, both per column."""
    gdp_all = _column(series, "gdp_10k_yuan", row)
    columns = np.arange(gdp_all.shape[-1]) if columns is None else np.asarray(columns)
    labels = columns if labels is None else np.asarray(labels)
    gdp = gdp_all[columns]
    frames = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for category, (energy_name, co2_name, va_name) in LMDI_CATEGORIES.items():
            energy = np.maximum(_column(series, energy_name, row)[columns], 0.0)
            co2 = np.maximum(_column(series, co2_name, row)[columns], 0.0)
            va = gdp if va_name is None else np.maximum(_column(series, va_name, row)[columns], 0.0)
            values = {"activity": (gdp, "10^4 CNY"),
                      "structure": (np.where(gdp > 0, va / gdp, 0.0), "dimensionless"),
                      "energy_intensity": (np.where(va > 0, energy / va, 0.0), "tce/(10^4 CNY)"),
                      "carbon_factor": (np.where(energy > 0, co2 / energy, 0.0), "t/tce")}
            for factor in SECTOR_FACTORS:
                value, unit = values[factor]
                frames.append(pd.DataFrame({"year": labels.astype(int), "category": category, "factor": factor,
                                            "value": value, "unit": unit}))
    others = {name: sign * _column(series, name_series, row)[columns]
              for name, (name_series, sign) in LMDI_OTHER_TERMS.items()}
    return pd.concat(frames, ignore_index=True), others, _column(series, "co2_emissions_t", row)[columns]


@dataclass
class SectorLmdi:
    """Additive LMDI-I of a CO2 change by sector and factor, plus the non-sector terms (t CO2).

    ``kind``: ``"period"`` (one pathway, ``start`` → ``end`` year) or ``"between"`` (two pathways in one
    ``year``, ``base`` → ``scenario``). ``effects[i, k]`` is the effect of factor k in sector i; ``other`` the
    changes of process CO2, −CCUS and the supply remainder. Σ effects + Σ other = :attr:`total_change`.
    """

    kind: str
    start: Any
    end: Any
    year: int | None
    base: str | None
    scenario: str | None
    factors: tuple[str, ...]
    categories: tuple[str, ...]
    effects: np.ndarray  # (categories, factors)
    other: dict[str, float]
    co2_start: float  # headline CO2 (co2_emissions_t) at the start
    co2_end: float
    sector_start: dict[str, float]
    sector_end: dict[str, float]
    chained: bool = False
    provenance: Provenance | None = None

    @property
    def total_change(self) -> float:
        """``C_end − C_start`` of the headline series (the Shapley total gap for ``kind="between"``)."""
        return float(self.co2_end - self.co2_start)

    @property
    def additive(self) -> dict[str, float]:
        """Effect per factor summed over the sectors, then the non-sector terms."""
        sums = self.effects.sum(axis=0)
        return {**{f: float(v) for f, v in zip(self.factors, sums, strict=True)}, **self.other}

    @property
    def closure_error(self) -> float:
        """``|Σ effects + Σ other − total_change| / max(|C_start|, |C_end|)``."""
        scale = max(abs(self.co2_start), abs(self.co2_end), 1e-300)
        return abs(math.fsum([*self.effects.ravel(), *self.other.values()]) - self.total_change) / scale

    def to_dict(self) -> dict:
        return {
            "method": "LMDI-I additive by sector (Ang 2005; Ang 2015)" + (", chained" if self.chained else ""),
            "kind": self.kind, "from": self.start, "to": self.end, "year": self.year, "base": self.base,
            "scenario": self.scenario, "unit": "t", "factors": list(self.factors),
            "co2_from": float(self.co2_start), "co2_to": float(self.co2_end), "total_change": self.total_change,
            "additive": self.additive, "other": dict(self.other),
            "by_sector": {c: {**{f: float(self.effects[i, j]) for j, f in enumerate(self.factors)},
                              "change": float(self.sector_end[c] - self.sector_start[c])}
                          for i, c in enumerate(self.categories)},
            "closure_error": self.closure_error,
            "provenance": self.provenance.to_dict() if self.provenance else None,
        }

    def rows(self) -> list[dict]:
        """One row per sector (effects by factor) and one per non-sector term."""
        label = f"{self.start}→{self.end}" + (f" {self.year}" if self.year is not None else "")
        rows = [{"LMDI": label, "部门 / sector": c,
                 **{f: float(self.effects[i, j]) for j, f in enumerate(self.factors)},
                 "合计 / total": float(self.effects[i].sum())} for i, c in enumerate(self.categories)]
        rows += [{"LMDI": label, "部门 / sector": name, **dict.fromkeys(self.factors), "合计 / total": value}
                 for name, value in self.other.items()]
        return rows


def _sector_result(kind: str, start: Any, end: Any, frame: pd.DataFrame, others: dict[str, np.ndarray],
                   co2: np.ndarray, i0: int, i1: int, years: list[int] | None, *, year: int | None = None,
                   base: str | None = None, scenario: str | None = None, parameters: dict | None = None,
                   model: Any = None) -> SectorLmdi:
    from citycarbon.decomposition import decompose_lmdi, decompose_lmdi_chain

    labels = sorted(int(v) for v in frame["year"].unique())
    if years is not None:
        lmdi = decompose_lmdi_chain(frame, years, source="pathway by sector")
    else:
        lmdi = decompose_lmdi(frame, start=labels[i0], end=labels[i1], source="pathway by sector")
    order_c = [lmdi.categories.index(c) for c in LMDI_CATEGORIES]
    order_f = [lmdi.factors.index(f) for f in SECTOR_FACTORS]
    effects = np.asarray(lmdi.effects)[np.ix_(order_c, order_f)]
    cube = frame.pivot_table(index=["year", "category"], columns="factor", values="value", aggfunc="first")
    product = cube.prod(axis=1)
    sector_start = {c: float(product[(labels[i0], c)]) for c in LMDI_CATEGORIES}
    sector_end = {c: float(product[(labels[i1], c)]) for c in LMDI_CATEGORIES}
    other = {name: float(v[i1] - v[i0]) for name, v in others.items()}
    provenance = Provenance("LMDI-I of a pathway by sector (issue 17)", METHOD_VERSION,
                            standards=list(SECTOR_STANDARDS),
                            parameters={**(parameters or {}), **(model_provenance(model) if model is not None else {})})
    return SectorLmdi(kind=kind, start=start, end=end, year=year, base=base, scenario=scenario,
                      factors=SECTOR_FACTORS, categories=tuple(LMDI_CATEGORIES), effects=effects, other=other,
                      co2_start=float(co2[i0]), co2_end=float(co2[i1]), sector_start=sector_start,
                      sector_end=sector_end, chained=years is not None, provenance=provenance)


def _sector_lmdi_of_pathway(model: PathwayModel, scenario: Any, year: int, base_year: int | None,
                            chain: bool) -> SectorLmdi:
    out = model.evaluate(np.asarray(model.vector(scenario), dtype=float)[None, :])
    years = [int(y) for y in np.asarray(out.years)]
    start = years[0] if base_year is None else int(base_year)
    for field_name, value in (("base_year", start), ("year", year)):
        if value not in years:
            raise InputError(Problem(f"{value} is not a model year ({years[0]}–{years[-1]})", field=field_name,
                                     value=value))
    if start == year:
        raise InputError(Problem(f"base year and year are the same ({year}); nothing to decompose", field="year",
                                 value=year))
    lo, hi = min(start, year), max(start, year)
    columns = [years.index(y) for y in years if lo <= y <= hi] if chain else [years.index(start), years.index(year)]
    frame, others, co2 = pathway_sector_input(out.series, 0, sorted(columns), np.asarray(years)[sorted(columns)])
    labels = [years[c] for c in sorted(columns)]
    i0, i1 = labels.index(start), labels.index(year)
    chain_years = (labels if start < year else labels[::-1]) if chain else None
    name, _ = scenario_label(scenario)
    return _sector_result("period", start, year, frame, others, co2, i0, i1, chain_years, scenario=name,
                          parameters={"scenario": name, "from": start, "to": year, "chain": bool(chain)}, model=model)


def lmdi_between(model: PathwayModel, base_scenario: Any, scenario: Any, year: int) -> SectorLmdi:
    """LMDI-I by sector of the difference between two pathways in ``year`` (``base_scenario`` → ``scenario``).

    Same identity, sectors and non-sector terms as ``lmdi_of_pathway(..., by="sector")``, with the two pathways
    in place of two years (both evaluated in one call). Its :attr:`SectorLmdi.total_change` is
    ``C_scenario(year) − C_base(year)`` of ``co2_emissions_t``: the total gap that :func:`shapley`'s lever-group
    wedges share out in that year (``shapley(...).total``), so the two decompositions add up to the same number;
    no mapping between a lever group and a factor or sector is implied.
    """
    X = np.vstack([np.asarray(model.vector(s), dtype=float).reshape(-1) for s in (base_scenario, scenario)])
    out = model.evaluate(X)
    years = [int(y) for y in np.asarray(out.years)]
    if int(year) not in years:
        raise InputError(Problem(f"{year} is not a model year ({years[0]}–{years[-1]})", field="year", value=year))
    column = years.index(int(year))
    frames, co2 = [], []
    others_by: dict[str, list[float]] = {}
    for row, label in ((0, 0), (1, 1)):
        frame, others, c = pathway_sector_input(out.series, row, [column], [label])
        frames.append(frame)
        for name, v in others.items():
            others_by.setdefault(name, []).append(float(v[0]))
        co2.append(float(c[0]))
    base_name, _ = scenario_label(base_scenario)
    name, _ = scenario_label(scenario)
    return _sector_result("between", base_name, name, pd.concat(frames, ignore_index=True),
                          {k: np.asarray(v) for k, v in others_by.items()}, np.asarray(co2), 0, 1, None,
                          year=int(year), base=base_name, scenario=name,
                          parameters={"base": base_name, "scenario": name, "year": int(year)}, model=model)


def attach_lmdi(result: ShapleyResult, model: PathwayModel, base_scenario: Any, scenario: Any, *,
                lmdi: int | None = None, lmdi_period: int | None = None) -> list[dict]:
    """Add LMDI decompositions to a Shapley ``result`` (its :attr:`ShapleyResult.decompositions`) and return
    their table rows (the columns of :meth:`ShapleyResult.rows`).

    ``lmdi=YEAR``: ``"lmdi_between"``, the by-sector LMDI of the gap base → scenario in YEAR
    (:func:`lmdi_between`) with ``wedges_total`` (the Shapley wedges' total gap that year) and
    ``wedges_difference`` (LMDI total − wedges total: 0 when the two agree), and ``"lmdi"``, the scenario's
    city LMDI from its base year to YEAR (the ``--lmdi`` JSON before issue 17). ``lmdi_period=YEAR``: ``"lmdi"``
    for YEAR and ``"lmdi_by_sector"``, the same period by sector.
    """
    rows: list[dict] = []
    years = [int(y) for y in np.asarray(result.years)]

    def period_rows(period: dict, label: str) -> list[dict]:
        return [{"措施组 / lever group": label, "名称 / title": factor, "累计贡献 / cumulative": effect,
                 "占比 / share": None} for factor, effect in period["additive"].items()]

    if lmdi is not None:
        between = lmdi_between(model, base_scenario, scenario, int(lmdi))
        data = between.to_dict()
        wedges = float(result.total[years.index(int(lmdi))])
        data["wedges_total"] = wedges
        data["wedges_difference"] = between.total_change - wedges
        result.decompositions["lmdi_between"] = data
        result.decompositions["lmdi"] = lmdi_of_pathway(model, scenario, int(lmdi)).periods[0].to_dict()
        label = f"LMDI {between.base}→{between.scenario} {int(lmdi)}"
        total = between.total_change
        for sector, effects in data["by_sector"].items():
            rows += [{"措施组 / lever group": label, "名称 / title": f"{LMDI_TITLES[sector]} · {LMDI_TITLES[factor]}",
                      "累计贡献 / cumulative": effects[factor],
                      "占比 / share": effects[factor] / total if total else None} for factor in between.factors]
        rows += [{"措施组 / lever group": label, "名称 / title": LMDI_TITLES[name], "累计贡献 / cumulative": value,
                  "占比 / share": value / total if total else None} for name, value in between.other.items()]
        rows += [{"措施组 / lever group": label, "名称 / title": "合计 total (LMDI)", "累计贡献 / cumulative": total,
                  "占比 / share": 1.0 if total else None},
                 {"措施组 / lever group": label, "名称 / title": "措施组合计 total (Shapley wedges)",
                  "累计贡献 / cumulative": wedges, "占比 / share": 1.0 if wedges else None}]
    if lmdi_period is not None:
        period = lmdi_of_pathway(model, scenario, int(lmdi_period)).periods[0].to_dict()
        result.decompositions["lmdi"] = period
        result.decompositions["lmdi_by_sector"] = lmdi_of_pathway(model, scenario, int(lmdi_period),
                                                                  by="sector").to_dict()
        rows += period_rows(period, f"LMDI {period['from']}→{period['to']}")
    return rows
