"""Monte Carlo over the pathway model's uncertain parameters: percentiles, peak-year distribution, P(target met).

Method
------
Latin-hypercube sampling (McKay, Beckman & Conover 1979, Technometrics 21:239–245; ``scipy.stats.qmc``)
of the parameters whose ``kind`` is ``"uncertain"``, each over its ``[low, high]`` range, mapped through
the inverse CDF of its distribution: ``uniform`` on ``[low, high]`` or ``triangular`` with its mode at
the parameter's default (the usual choice when a range and a most-likely value are all that is known;
IPCC 2006 Guidelines Vol. 1 Ch. 3, "Uncertainties"). The distribution of each parameter is read from the
model's parameter table when it has a ``distribution`` column, otherwise from
``data/pathways/uncertainty.yaml``. Levers stay at the scenario's values, and so do uncertain parameters
the scenario sets explicitly (its ``parameters``: a "high growth" scenario keeps its growth).

Every run is evaluated by the vectorised model, in chunks of ``chunk`` rows so that the model's own
intermediate arrays stay bounded (only the series kept for percentiles are held for all runs: 8 bytes ×
runs × years × series). With ``dask=`` the chunks are evaluated on Dask workers
(:mod:`citycarbon.pathways.distributed`) and gathered in order, so the result is bit-identical to the
in-process run for the same seed: the sample is drawn once here, the model is row-wise, and every
statistic is computed here from the gathered arrays.

Model contract
--------------
The functions of this package (ensembles, sensitivity, attribution, goal-seek) need only the small
:class:`PathwayModel` protocol below: a parameter table, ``vector(scenario)`` and a vectorised
``evaluate(X)``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol, runtime_checkable

import numpy as np
import yaml
from scipy.stats import qmc

from citycarbon.errors import InputError, Problem
from citycarbon.progress import Progress, or_silent
from citycarbon.provenance import Provenance

__all__ = [
    "DISTRIBUTIONS",
    "HEADLINE_SERIES",
    "OPTIONAL_INDICATORS",
    "PERCENTILES",
    "EnsembleResult",
    "ParameterTable",
    "PathwayModel",
    "PathwayOutput",
    "collect_outputs",
    "ensemble",
    "evaluate_in_chunks",
    "latin_hypercube",
    "load_distributions",
    "model_provenance",
    "parameter_arrays",
    "scenario_label",
    "target_info",
]

#: percentiles reported for every series and year
PERCENTILES: tuple[int, ...] = (5, 25, 50, 75, 95)
#: distributions an uncertain parameter may have
DISTRIBUTIONS: tuple[str, ...] = ("uniform", "triangular")
#: per-run indicators collected when the model's output offers them (plateau length in years, first year of
#: net-zero CO2 after sinks, NaN when not reached)
OPTIONAL_INDICATORS: tuple[str, ...] = ("plateau_years", "neutrality_year")
#: default number of rows evaluated per model call
DEFAULT_CHUNK = 1024
#: series kept for percentiles by default (those of the issue's ``run`` JSON and the cockpit charts), where
#: the model has them; ``series=None`` keeps every series of the model
HEADLINE_SERIES: tuple[str, ...] = (
    "co2_emissions_t", "net_co2_emissions_t", "energy_consumption_tce", "non_fossil_share", "co2_intensity",
    "energy_intensity", "sink_co2_t", "wind_solar_capacity_mw", "forest_coverage",
)
#: issue 17 (macc): CO2 bases an ensemble summarises when the model's output offers them (``out.bases()``), the
#: series of each basis kept for percentiles by default, and the cost series (CNY/yr) reported under ``costs``
CO2_BASES: tuple[str, ...] = ("net_inflow", "consumption", "territorial")
BASIS_SERIES: tuple[str, ...] = tuple(f"{kind}_{b}_t" for b in CO2_BASES
                                      for kind in ("co2_emissions", "net_co2_emissions"))
COST_SERIES: tuple[str, ...] = ("cost_total_cny", "cost_power_cny", "cost_heat_cny", "cost_industry_cny",
                                "cost_buildings_cny", "cost_transport_cny", "cost_agriculture_cny",
                                "cost_removals_cny", "cost_sinks_cny")
#: cost series reported under ``costs`` when kept (``series=None`` or named), not kept by default
COST_KIND_SERIES: tuple[str, ...] = ("cost_capital_cny", "cost_operating_cny", "cost_fuel_cny")
#: the year of the neutrality probability per basis
NEUTRALITY_YEAR = 2060
METHOD = "Latin-hypercube Monte Carlo over uncertain parameters (levers fixed)"
METHOD_VERSION = "1"
STANDARDS: tuple[str, ...] = (
    "McKay, Beckman & Conover (1979) Technometrics 21:239-245 (Latin hypercube sampling)",
    "IPCC 2006 Guidelines Vol.1 Ch.3 (Uncertainties: probability density functions, Monte Carlo)",
)
_DATA_FILE = "uncertainty.yaml"


# --------------------------------------------------------------------------------------------------
# the model contract


@runtime_checkable
class ParameterTable(Protocol):
    """The model's parameters (levers and uncertain inputs), one entry per column of ``X``."""

    names: Sequence[str]
    default: Any  # (p,) float
    low: Any  # (p,) float
    high: Any  # (p,) float
    group: Sequence[str]  # lever group (the plan's task groups) or uncertainty group
    kind: Sequence[str]  # "lever" | "uncertain"
    unit: Sequence[str]
    source: Sequence[str]
    direction: Any  # (p,): +1 higher value = more ambition (less CO2), -1 the reverse, 0 neither


@runtime_checkable
class PathwayOutput(Protocol):
    """Results of ``n`` runs: series over ``years`` and the target-native indicators."""

    years: Any  # (n_years,) int
    series: Mapping[str, Any]  # name -> (n, n_years)

    def peak_year(self) -> Any: ...  # (n,)

    def peak_value(self) -> Any: ...  # (n,)

    def targets(self) -> Mapping[str, tuple[Any, Any]]: ...  # id -> (met (n,) bool, margin (n,))


@runtime_checkable
class PathwayModel(Protocol):
    """A vectorised pathway model: ``evaluate(X)`` runs every row of ``X`` (n, p) at once."""

    parameters: ParameterTable

    def vector(self, scenario: Any) -> Any: ...  # (p,)

    def evaluate(self, X: Any) -> PathwayOutput: ...


@dataclass(frozen=True)
class Parameters:
    """The parameter table as numpy arrays (what every function here works on)."""

    names: tuple[str, ...]
    default: np.ndarray
    low: np.ndarray
    high: np.ndarray
    group: tuple[str, ...]
    kind: tuple[str, ...]
    unit: tuple[str, ...]
    direction: np.ndarray

    def index(self, kinds: Sequence[str]) -> np.ndarray:
        return np.array([i for i, k in enumerate(self.kind) if k in kinds], dtype=np.intp)

    @property
    def span(self) -> np.ndarray:
        return self.high - self.low


def parameter_arrays(model: PathwayModel) -> Parameters:
    """Read the model's parameter table into arrays, checking ranges (``low ≤ default ≤ high``)."""
    table = model.parameters
    names = tuple(str(n) for n in table.names)
    p = len(names)

    def floats(attr: str) -> np.ndarray:
        return np.asarray(getattr(table, attr), dtype=float).reshape(p)

    def strings(attr: str, fill: str = "") -> tuple[str, ...]:
        values = getattr(table, attr, None)
        if values is None or len(values) == 0:
            return (fill,) * p
        if len(values) != p:
            raise InputError(Problem(f"parameter table column '{attr}' has {len(values)} entries for {p} parameters",
                                     field=attr, value=len(values)))
        return tuple(str(v) for v in values)

    low, high, default = floats("low"), floats("high"), floats("default")
    direction = (np.asarray(table.direction, dtype=float).reshape(p)
                 if getattr(table, "direction", None) is not None else np.zeros(p))
    bad = [i for i in range(p) if not (np.isfinite(low[i]) and np.isfinite(high[i]) and low[i] <= high[i])]
    if bad:
        raise InputError([Problem(f"parameter range [{low[i]}, {high[i]}] is not a finite interval", field=names[i],
                                  value=(low[i], high[i])) for i in bad])
    return Parameters(names=names, default=default, low=low, high=high, group=strings("group"),
                      kind=strings("kind"), unit=strings("unit"), direction=direction)


def target_info(model: Any) -> dict[str, dict[str, str]]:
    """Title (zh, en) and unit of each plan target, when the model carries its plan (``model.plan.targets``)."""
    plan = getattr(model, "plan", None)
    return {str(t.id): {"title_zh": str(getattr(t, "title_zh", "")), "title_en": str(getattr(t, "title_en", "")),
                        "unit": str(getattr(t, "unit", ""))} for t in (getattr(plan, "targets", None) or [])}


def model_provenance(model: Any) -> dict[str, object]:
    """What identifies the model a result came from: class, ``MODEL_VERSION`` of its module, city, and the
    content hashes of its inputs when it records them (``model.sources``)."""
    module = sys.modules.get(type(model).__module__)
    sources = getattr(model, "sources", None)
    return {"model": f"{type(model).__module__}.{type(model).__name__}",
            "model_version": getattr(module, "MODEL_VERSION", None), "city": getattr(model, "city", None),
            "model_sources": dict(sources) if isinstance(sources, Mapping) else None}


def scenario_label(scenario: Any) -> tuple[str, str | None]:
    """(name, canonical code) of a scenario object, whatever its class."""
    name = getattr(scenario, "name", None) or str(scenario)
    code = getattr(scenario, "code", None)
    if callable(code):
        code = code()
    return str(name), (str(code) if code is not None else None)


# --------------------------------------------------------------------------------------------------
# distributions


@functools.cache
def _distribution_file() -> dict:
    text = resources.files("citycarbon.data").joinpath("pathways", _DATA_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    where = f"data/pathways/{_DATA_FILE}"
    default = (data.get("default") or {}).get("distribution")
    if default not in DISTRIBUTIONS:
        raise InputError(Problem(f"default distribution must be one of {', '.join(DISTRIBUTIONS)}", file=where,
                                 field="default.distribution", value=default))
    per = {}
    for name, entry in (data.get("parameters") or {}).items():
        dist = (entry or {}).get("distribution")
        if dist not in DISTRIBUTIONS:
            raise InputError(Problem(f"distribution must be one of {', '.join(DISTRIBUTIONS)}", file=where,
                                     field=f"parameters.{name}.distribution", value=dist))
        per[str(name)] = dist
    return {"default": default, "parameters": per, "source": (data.get("default") or {}).get("source", "")}


def load_distributions(model: PathwayModel, names: Sequence[str]) -> tuple[str, ...]:
    """Distribution of each named parameter: the model's ``distribution`` column, else the data file."""
    table = model.parameters
    column = getattr(table, "distribution", None)
    if column is not None:
        lookup = dict(zip((str(n) for n in table.names), (str(d) for d in column), strict=True))
        out = tuple(lookup[n] for n in names)
        bad = [(n, d) for n, d in zip(names, out, strict=True) if d not in DISTRIBUTIONS]
        if bad:
            raise InputError([Problem(f"distribution must be one of {', '.join(DISTRIBUTIONS)}", field=n, value=d)
                              for n, d in bad])
        return out
    data = _distribution_file()
    return tuple(data["parameters"].get(n, data["default"]) for n in names)


def _inverse_cdf(u: np.ndarray, low: np.ndarray, high: np.ndarray, mode: np.ndarray,
                 distributions: Sequence[str]) -> np.ndarray:
    """Map uniform ``u`` (n, k) in [0, 1) to each column's distribution (closed forms, vectorised)."""
    span = high - low
    x = low + u * span  # uniform
    tri = np.array([d == "triangular" for d in distributions])
    if tri.any():
        lo, hi, span_t = low[tri], high[tri], span[tri]
        mo = np.clip(mode[tri], lo, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(span_t > 0, (mo - lo) / span_t, 0.5)
        ut = u[:, tri]
        left = lo + np.sqrt(ut * span_t * (mo - lo))
        right = hi - np.sqrt((1.0 - ut) * span_t * (hi - mo))
        x[:, tri] = np.where(ut < c, left, right)
    return x


# --------------------------------------------------------------------------------------------------
# evaluation in chunks (in process or on Dask)


def collect_outputs(out: PathwayOutput, series: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Flatten a model output into named arrays (what chunks return and what is concatenated)."""
    names = list(out.series) if series is None else list(series)
    arrays: dict[str, np.ndarray] = {}
    for name in names:
        if name not in out.series:
            raise InputError(Problem(f"the model has no series '{name}'", field="series", value=name))
        arrays[f"series:{name}"] = np.asarray(out.series[name], dtype=float)
    arrays["peak_year"] = np.asarray(out.peak_year())
    arrays["peak_value"] = np.asarray(out.peak_value(), dtype=float)
    if "co2_emissions_t" in out.series:
        arrays["indicator:cumulative_co2_t"] = np.asarray(out.series["co2_emissions_t"], dtype=float).sum(axis=1)
    for name in OPTIONAL_INDICATORS:  # target-native indicators a model may offer beyond the protocol
        method = getattr(out, name, None)
        if callable(method):
            arrays[f"indicator:{name}"] = np.asarray(method(), dtype=float)
    arrays.update(_basis_and_cost_arrays(out))
    for target, (met, margin) in out.targets().items():
        arrays[f"met:{target}"] = np.asarray(met, dtype=bool)
        arrays[f"margin:{target}"] = np.asarray(margin, dtype=float)
    arrays["years"] = np.asarray(out.years)[None, :]
    return arrays


def _npv_of(out: PathwayOutput) -> np.ndarray | None:
    """Each run's NPV (CNY) when the output has the cost series (``cost_total_cny``, ``discount_factor``)."""
    if "cost_total_cny" not in out.series or "discount_factor" not in out.series:
        return None
    from citycarbon.pathways.costs import npv

    return npv(np.asarray(out.series["cost_total_cny"], dtype=float),
               np.asarray(out.series["discount_factor"], dtype=float))


def _basis_and_cost_arrays(out: PathwayOutput) -> dict[str, np.ndarray]:
    """Per run and CO2 basis (issue 17), when the output offers ``bases()`` and the per-basis methods of
    :class:`citycarbon.pathways.model.Outputs`: peak year and value, plateau years, neutrality year and net CO2 in
    :data:`NEUTRALITY_YEAR`; and the NPV of the costs when the output has them."""
    arrays: dict[str, np.ndarray] = {}
    bases = getattr(out, "bases", None)
    if callable(bases):
        years = np.asarray(out.years)
        column = int(np.flatnonzero(years == NEUTRALITY_YEAR)[0]) if NEUTRALITY_YEAR in years else len(years) - 1
        for basis in bases():
            key = f"basis:{basis}:"
            arrays[key + "peak_year"] = np.asarray(out.peak_year(basis), dtype=float)  # type: ignore[call-arg]
            arrays[key + "peak_value"] = np.asarray(out.peak_value(basis), dtype=float)  # type: ignore[call-arg]
            for name in ("plateau_years", "neutrality_year"):
                method = getattr(out, name, None)
                if callable(method):
                    arrays[key + name] = np.asarray(method(basis), dtype=float)
            net = getattr(out, "net_co2", None)
            if callable(net):
                arrays[key + "net_co2_neutrality_year"] = np.asarray(net(basis), dtype=float)[:, column]
    present = _npv_of(out)
    if present is not None:
        arrays["cost:npv_cny"] = present
    return arrays


def evaluate_in_chunks(model: PathwayModel, X: np.ndarray,
                       reducer: Callable[[PathwayOutput], dict[str, np.ndarray]],
                       *, chunk: int = DEFAULT_CHUNK, dask: Any = None,
                       progress: Progress | None = None) -> dict[str, np.ndarray]:
    """Evaluate ``X`` (n, p) ``chunk`` rows at a time and concatenate ``reducer``'s arrays in row order.

    ``reducer`` turns one chunk's output into named arrays whose first axis is the chunk's rows (an array
    named ``years`` is taken from the first chunk only). With ``dask`` (a ``distributed.Client``, a
    scheduler address, or ``True`` for ``CITYCARBON_DASK_SCHEDULER``) the chunks run on Dask workers.
    ``progress`` (:mod:`citycarbon.progress`) is told the rows evaluated after each chunk; it changes nothing
    in the result.
    """
    X = np.ascontiguousarray(X, dtype=float)
    if chunk < 1:
        raise InputError(Problem("chunk must be ≥ 1", field="chunk", value=chunk))
    bounds = [(start, min(start + chunk, len(X))) for start in range(0, len(X), chunk)]
    if dask is not None and dask is not False:
        from citycarbon.pathways.distributed import map_chunks

        parts = map_chunks(model, [X[a:b] for a, b in bounds], reducer, dask, progress=progress)
    else:
        report = or_silent(progress)
        report(0, len(X), "")
        parts = []
        for a, b in bounds:
            parts.append(reducer(model.evaluate(X[a:b])))
            report(b, len(X), "")
    if not parts:
        raise InputError(Problem("nothing to evaluate (0 runs)", field="runs", value=0))
    merged: dict[str, np.ndarray] = {}
    for key in parts[0]:
        merged[key] = parts[0][key] if key == "years" else np.concatenate([part[key] for part in parts], axis=0)
    if "years" in merged:
        merged["years"] = merged["years"][0]
    return merged


# --------------------------------------------------------------------------------------------------
# the ensemble


@dataclass
class EnsembleResult:
    """An ensemble's runs and statistics. Arrays are in run order; ``sample`` holds the drawn parameters."""

    scenario: str
    code: str | None
    runs: int
    seed: int
    years: np.ndarray
    parameter_names: tuple[str, ...]
    distributions: tuple[str, ...]
    sample: np.ndarray  # (runs, k) values of the uncertain parameters
    series: dict[str, np.ndarray]  # name -> (runs, n_years)
    peak_year: np.ndarray  # (runs,)
    peak_value: np.ndarray  # (runs,)
    met: dict[str, np.ndarray]  # target id -> (runs,) bool
    margin: dict[str, np.ndarray]  # target id -> (runs,)
    provenance: Provenance = field(default_factory=lambda: Provenance(METHOD, METHOD_VERSION))
    targets_info: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> title_zh, title_en, unit
    indicators: dict[str, np.ndarray] = field(default_factory=dict)  # cumulative_co2_t, plateau_years, ... (runs,)
    # issue 17 (macc): per CO2 basis, per-run indicators (peak_year, peak_value, plateau_years, neutrality_year,
    # net_co2_neutrality_year); each run's NPV (CNY) and, with ``versus``, the NPV of the versus scenario on the
    # same draws (common random numbers); the model's peak rule
    bases: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    npv: np.ndarray | None = None
    npv_versus: np.ndarray | None = None
    versus: str | None = None
    versus_code: str | None = None
    peak_rule: str | None = None

    def indicator_summary(self) -> dict[str, dict[str, float | None]]:
        """Percentiles of each per-run indicator over the runs where it is defined, and that share."""
        summary: dict[str, dict[str, float | None]] = {}
        for name, values in self.indicators.items():
            finite = values[np.isfinite(values)]
            stats: dict[str, float | None] = {"share_defined": float(len(finite)) / self.runs}
            stats.update({f"p{q}": (float(v) if len(finite) else None) for q, v in
                          zip(PERCENTILES, np.percentile(finite, PERCENTILES) if len(finite) else
                              [np.nan] * len(PERCENTILES), strict=True)})
            summary[name] = stats
        return summary

    def percentiles(self, q: Sequence[float] = PERCENTILES) -> dict[str, dict[str, np.ndarray]]:
        """``{series: {"p5": (n_years,), ...}}``."""
        return {name: dict(zip((f"p{int(v)}" if float(v).is_integer() else f"p{v}" for v in q),
                               np.percentile(values, q, axis=0), strict=True))
                for name, values in self.series.items()}

    def _percentile_lists(self) -> dict[str, dict[str, list[float]]]:
        return {name: {k: [float(x) for x in v] for k, v in stats.items()}
                for name, stats in self.percentiles().items()}

    def p_peak_by(self, year: int) -> float:
        """Share of runs whose CO2 peaks in ``year`` or earlier."""
        return float(np.mean(self.peak_year <= year))

    def peak_year_distribution(self) -> dict[int, float]:
        years, counts = np.unique(self.peak_year, return_counts=True)
        return {int(y): float(c) / self.runs for y, c in zip(years, counts, strict=True)}

    def p_met(self) -> dict[str, float]:
        return {target: float(np.mean(met)) for target, met in self.met.items()}

    def mean_margin(self) -> dict[str, float]:
        return {target: float(np.mean(margin)) for target, margin in self.margin.items()}

    def _quantiles(self, values: np.ndarray) -> dict[str, float | None]:
        finite = values[np.isfinite(values)]
        return {f"p{q}": (float(v) if len(finite) else None) for q, v in zip(
            PERCENTILES, np.percentile(finite, PERCENTILES) if len(finite) else [np.nan] * len(PERCENTILES),
            strict=True)}

    def basis_summary(self) -> dict[str, dict[str, Any]]:
        """Per CO2 basis (issue 17): P(peak ≤ 2030), the peak-year distribution, peak-value percentiles, plateau
        percentiles, neutrality-year percentiles (where reached) and P(net CO2 ≤ 0 in 2060)."""
        out: dict[str, dict[str, Any]] = {}
        for basis, values in self.bases.items():
            peak = values["peak_year"]
            years, counts = np.unique(peak, return_counts=True)
            entry: dict[str, Any] = {
                "p_peak_by_2030": float(np.mean(peak <= 2030)),
                "peak_year_distribution": {str(int(y)): float(c) / self.runs
                                           for y, c in zip(years, counts, strict=True)},
                "peak_value_percentiles": self._quantiles(values["peak_value"])}
            if "plateau_years" in values:
                entry["plateau_years"] = self._quantiles(values["plateau_years"])
            if "neutrality_year" in values:
                reached = values["neutrality_year"]
                entry["neutrality_year"] = {"share_defined": float(np.mean(np.isfinite(reached))),
                                            **self._quantiles(reached)}
            if "net_co2_neutrality_year" in values:
                entry[f"p_neutral_{NEUTRALITY_YEAR}"] = float(np.mean(values["net_co2_neutrality_year"] <= 0))
            out[basis] = entry
        return out

    def cost_summary(self, percentiles: Mapping[str, dict[str, list[float]]] | None = None) -> dict[str, Any] | None:
        """NPV percentiles (CNY), annual cost percentiles per kept cost series (CNY/yr) and, with ``versus``, the
        NPV difference (scenario − versus, paired by run) and the share of runs where the scenario costs less."""
        stats = percentiles if percentiles is not None else self._percentile_lists()
        annual = {name: values for name, values in stats.items() if name in (*COST_SERIES, *COST_KIND_SERIES)}
        if self.npv is None and not annual:
            return None
        costs: dict[str, Any] = {"npv_cny": None if self.npv is None else self._quantiles(self.npv),
                                 "annual": annual, "units": {"npv_cny": "CNY", "annual": "CNY/yr"}}
        if self.npv is not None and self.npv_versus is not None:
            difference = self.npv - self.npv_versus
            costs["versus"] = {"scenario": self.versus, "code": self.versus_code,
                               "npv_cny": self._quantiles(self.npv_versus),
                               "npv_difference_cny": self._quantiles(difference),
                               "p_cheaper": float(np.mean(difference < 0))}
        return costs

    def to_dict(self) -> dict:
        """The ensemble JSON of issue 5 (``runs, seed, p_peak_by_2030, peak_year_distribution, targets,
        percentiles``) plus the scenario, the years and provenance."""
        p_met, margins = self.p_met(), self.mean_margin()
        percentiles = self._percentile_lists()
        return {
            "scenario": self.scenario,
            "code": self.code,
            "runs": self.runs,
            "seed": self.seed,
            "years": [int(y) for y in self.years],
            "p_peak_by_2030": self.p_peak_by(2030),
            "peak_year_distribution": {str(y): share for y, share in self.peak_year_distribution().items()},
            "peak_value_percentiles": dict(zip((f"p{v}" for v in PERCENTILES),
                                               (float(x) for x in np.percentile(self.peak_value, PERCENTILES)),
                                               strict=True)),
            "indicators": self.indicator_summary(),
            "targets": [{"id": t, "p_met": p_met[t], "mean_margin": margins[t], **self.targets_info.get(t, {})}
                        for t in self.met],
            "percentiles": {name: stats for name, stats in percentiles.items()
                            if name not in (*COST_SERIES, *COST_KIND_SERIES)},
            "parameters": [{"name": n, "distribution": d} for n, d in
                           zip(self.parameter_names, self.distributions, strict=True)],
            "provenance": self.provenance.to_dict(),
            # issue 17 (macc): the peak rule, each CO2 basis, the costs (cost series' percentiles move here)
            "peak_rule": self.peak_rule,
            "bases": self.basis_summary(),
            "costs": self.cost_summary(percentiles),
        }

    def target_rows(self) -> list[dict]:
        """Flat table view: one row per target, then the peak-year probability."""
        p_met, margins = self.p_met(), self.mean_margin()
        rows = [{"指标 / indicator": "P(达峰 ≤ 2030) / P(peak ≤ 2030)", "概率 / probability": self.p_peak_by(2030),
                 "平均余量 / mean margin": None}]
        rows += [{"指标 / indicator": self.targets_info.get(t, {}).get("title_zh") or t, "概率 / probability": p_met[t],
                  "平均余量 / mean margin": margins[t]} for t in self.met]
        return rows


def latin_hypercube(model: PathwayModel, scenario: Any, runs: int, seed: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """The ensemble's sample around ``scenario``: ``(x0, X, idx, names, distributions)`` with ``x0`` the
    scenario's vector (p,), ``X`` (runs, p) the scenario's vector with the sampled columns ``idx`` (the
    parameters of kind ``uncertain`` and ``cost`` the scenario does not set) drawn by a Latin hypercube seeded
    with ``seed``. Other analyses (the MACC) reuse ``X[:, idx]`` for common random numbers."""
    params = parameter_arrays(model)
    x0 = np.asarray(model.vector(scenario), dtype=float).reshape(len(params.names))
    fixed = set(getattr(scenario, "parameters", None) or ())  # uncertain parameters the scenario sets stay set
    idx = np.array([i for i in params.index(("uncertain", "cost")) if params.names[i] not in fixed], dtype=np.intp)
    names = tuple(params.names[i] for i in idx)
    dists = load_distributions(model, names)
    X = np.tile(x0, (runs, 1))
    if len(idx):
        u = qmc.LatinHypercube(d=len(idx), rng=np.random.default_rng(seed)).random(runs)
        X[:, idx] = _inverse_cdf(u, params.low[idx], params.high[idx], params.default[idx], dists)
    return x0, X, idx, names, dists


def _reduce_ensemble(out: PathwayOutput, series: tuple[str, ...] | None) -> dict[str, np.ndarray]:
    return collect_outputs(out, series)


def ensemble(model: PathwayModel, scenario: Any, runs: int, seed: int, *, dask: Any = None,
             chunk: int = DEFAULT_CHUNK, series: Sequence[str] | str | None = "headline",
             progress: Progress | None = None, versus: Any = None) -> EnsembleResult:
    """Run ``runs`` Latin-hypercube draws of the uncertain parameters around ``scenario``'s levers.

    Same ``seed`` → bit-identical arrays, whatever ``chunk`` and whether or not ``dask`` is used.
    ``series`` names the series kept for percentiles: ``"headline"`` (default) those of
    :data:`HEADLINE_SERIES` the model has, ``None`` every series, or a list of names. ``progress`` is told
    the runs done after each chunk (:mod:`citycarbon.progress`). The headline selection also keeps each CO2
    basis's series and the cost series the model has (issue 17). ``versus`` (a scenario or a shipped name such as
    ``"BAU"``) evaluates that scenario on the same draws (common random numbers) for the NPV difference.
    """
    if int(runs) < 1:
        raise InputError(Problem("runs must be ≥ 1", field="runs", value=runs))
    runs, seed = int(runs), int(seed)
    x0, X, idx, names, dists = latin_hypercube(model, scenario, runs, seed)
    if isinstance(series, str):
        if series != "headline":
            raise InputError(Problem("series must be 'headline', None or a list of series names", field="series",
                                     value=series))
        available = model.evaluate(x0[None, :]).series
        series = [name for name in (*HEADLINE_SERIES, *BASIS_SERIES, *COST_SERIES) if name in available]
    reducer = functools.partial(_reduce_ensemble, series=tuple(series) if series is not None else None)
    merged = evaluate_in_chunks(model, X, reducer, chunk=chunk, dask=dask, progress=progress)
    name, code = scenario_label(scenario)
    npv_versus, versus_name, versus_code = None, None, None
    if versus is not None:
        if isinstance(versus, str):
            from citycarbon.pathways.scenarios import load_scenario

            versus = load_scenario(versus)
        xv = np.asarray(model.vector(versus), dtype=float).reshape(x0.shape)
        Xv = np.tile(xv, (runs, 1))
        Xv[:, idx] = X[:, idx]
        versus_name, versus_code = scenario_label(versus)
        costs = evaluate_in_chunks(model, Xv, _reduce_npv, chunk=chunk, dask=dask)
        if "npv" not in costs:
            raise InputError(Problem("the model has no cost series: no NPV to compare", field="versus",
                                     value=versus_name))
        npv_versus = costs["npv"]
    provenance = Provenance(METHOD, METHOD_VERSION, standards=list(STANDARDS),
                            parameters={"scenario": name, "code": code, "runs": runs, "seed": seed,
                                        "sampling": "scipy.stats.qmc.LatinHypercube",
                                        "uncertain_parameters": list(names), "distributions": list(dists),
                                        **model_provenance(model)})
    return EnsembleResult(
        scenario=name, code=code, runs=runs, seed=seed, years=merged["years"], parameter_names=names,
        distributions=dists, sample=X[:, idx],
        series={k.removeprefix("series:"): v for k, v in merged.items() if k.startswith("series:")},
        peak_year=merged["peak_year"], peak_value=merged["peak_value"],
        met={k.removeprefix("met:"): v for k, v in merged.items() if k.startswith("met:")},
        margin={k.removeprefix("margin:"): v for k, v in merged.items() if k.startswith("margin:")},
        provenance=provenance, targets_info=target_info(model),
        indicators={k.removeprefix("indicator:"): v for k, v in merged.items() if k.startswith("indicator:")},
        bases=_split_bases(merged), npv=merged.get("cost:npv_cny"), npv_versus=npv_versus, versus=versus_name,
        versus_code=versus_code, peak_rule=getattr(model, "peak_rule", None),
    )


def _split_bases(merged: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    bases: dict[str, dict[str, np.ndarray]] = {}
    for key, values in merged.items():
        if key.startswith("basis:"):
            _, basis, name = key.split(":", 2)
            bases.setdefault(basis, {})[name] = values
    return bases


def _reduce_npv(out: PathwayOutput) -> dict[str, np.ndarray]:
    present = _npv_of(out)
    return {} if present is None else {"npv": present}
