"""Global sensitivity of a pathway output to levers and uncertain parameters: Sobol and Morris (SALib).

* :func:`sobol`: variance-based first-order (S1), total (ST) and second-order (S2) indices with bootstrap
  confidence intervals — Saltelli (2002) Comput. Phys. Commun. 145:280–297; Saltelli et al. (2010)
  Comput. Phys. Commun. 181:259–270 — from ``SALib.sample.sobol`` / ``SALib.analyze.sobol``
  (Herman & Usher 2017, JOSS 2(9):97; Iwanaga et al. 2022, SESMO 4:18155). ``n`` base samples give
  ``n·(2k+2)`` runs with second order, ``n·(k+2)`` without, for ``k`` factors.
* :func:`morris`: elementary effects (Morris 1991, Technometrics 33:161–174) with the ``μ*`` of
  Campolongo, Cariboni & Saltelli (2007) Environ. Model. Softw. 22:1509–1518; ``n`` trajectories give
  ``n·(k+1)`` runs.

Factors are the model's parameters of the chosen kinds (levers and uncertain parameters by default), each
over its ``[low, high]`` range (uniform); parameters with an empty range, or not chosen, stay at the
scenario's value. Every run is evaluated by the vectorised model in chunks (or on Dask, identically).

Outputs (``output=``): ``cumulative_co2`` (sum of ``co2_emissions_t`` over the model years, t),
``peak_year``, ``peak_value`` (t), ``co2_<year>`` (t in that year), ``margin:<target id>``, or
``series:<name>:<year>``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from citycarbon.errors import InputError, Problem
from citycarbon.pathways.uncertainty import (
    DEFAULT_CHUNK,
    PathwayModel,
    PathwayOutput,
    evaluate_in_chunks,
    model_provenance,
    parameter_arrays,
    scenario_label,
)
from citycarbon.progress import Progress
from citycarbon.provenance import Provenance

__all__ = ["OUTPUTS", "SensitivityResult", "morris", "output_values", "sobol", "sobol_indices"]

#: named scalar outputs (besides co2_<year>, margin:<id>, series:<name>:<year>)
OUTPUTS: dict[str, str] = {
    "cumulative_co2": "t",
    "peak_year": "a",
    "peak_value": "t",
}
CO2_SERIES = "co2_emissions_t"
METHOD_VERSION = "1"
SOBOL_STANDARDS: tuple[str, ...] = (
    "Saltelli (2002) Comput. Phys. Commun. 145:280-297",
    "Saltelli et al. (2010) Comput. Phys. Commun. 181:259-270",
    "SALib: Herman & Usher (2017) JOSS 2(9):97; Iwanaga, Usher & Herman (2022) SESMO 4:18155",
)
MORRIS_STANDARDS: tuple[str, ...] = (
    "Morris (1991) Technometrics 33:161-174",
    "Campolongo, Cariboni & Saltelli (2007) Environ. Model. Softw. 22:1509-1518 (mu*)",
    "SALib: Herman & Usher (2017) JOSS 2(9):97",
)


def output_values(out: PathwayOutput, output: str) -> np.ndarray:
    """The scalar ``output`` of every run of ``out`` as an (n,) float array."""
    years = np.asarray(out.years)

    def column(name: str, year: str) -> np.ndarray:
        if name not in out.series:
            raise InputError(Problem(f"the model has no series '{name}'", field="output", value=output))
        where = np.flatnonzero(years == int(year))
        if not where.size:
            raise InputError(Problem(f"year {year} is outside the model years {years[0]}–{years[-1]}",
                                     field="output", value=output))
        return np.asarray(out.series[name], dtype=float)[:, where[0]]

    if output == "cumulative_co2":
        return np.asarray(out.series[CO2_SERIES], dtype=float).sum(axis=1)
    if output == "peak_year":
        return np.asarray(out.peak_year(), dtype=float)
    if output == "peak_value":
        return np.asarray(out.peak_value(), dtype=float)
    if output.startswith("co2_") and output[4:].isdigit():
        return column(CO2_SERIES, output[4:])
    if output.startswith("margin:"):
        targets = out.targets()
        target = output.removeprefix("margin:")
        if target not in targets:
            raise InputError(Problem(f"unknown target '{target}'", field="output", value=output))
        return np.asarray(targets[target][1], dtype=float)
    if output.startswith("series:") and output.count(":") == 2:
        _, name, year = output.split(":")
        if year.isdigit():
            return column(name, year)
    raise InputError(Problem("output must be cumulative_co2, peak_year, peak_value, co2_<year>, margin:<target> "
                             "or series:<name>:<year>", field="output", value=output))


def _reduce_output(out: PathwayOutput, output: str) -> dict[str, np.ndarray]:
    return {"y": output_values(out, output)}


@dataclass
class SensitivityResult:
    """Indices per factor, sorted by importance (ST for Sobol, μ* for Morris)."""

    method: str  # "sobol" | "morris"
    output: str
    scenario: str
    code: str | None
    n: int
    runs: int
    seed: int
    factors: list[dict]  # one dict per factor (name, group, kind, indices with *_conf)
    second_order: list[dict] = field(default_factory=list)  # Sobol S2 pairs, largest first
    note: str | None = None
    provenance: Provenance | None = None

    @property
    def names(self) -> list[str]:
        return [f["name"] for f in self.factors]

    def to_dict(self) -> dict:
        return {"method": self.method, "output": self.output, "scenario": self.scenario, "code": self.code,
                "n": self.n, "runs": self.runs, "seed": self.seed, "factors": self.factors,
                "second_order": self.second_order, "note": self.note,
                "provenance": self.provenance.to_dict() if self.provenance else None}

    def rows(self) -> list[dict]:
        keys = ("S1", "S1_conf", "ST", "ST_conf") if self.method == "sobol" else ("mu_star", "mu_star_conf", "mu",
                                                                                    "sigma")
        return [{"因素 / factor": f["name"], "组 / group": f["group"], "类型 / kind": f["kind"],
                 **{k: f[k] for k in keys}} for f in self.factors]


def _problem(model: PathwayModel, scenario: Any, kinds: Sequence[str], parameters: Sequence[str] | None,
             by: str) -> tuple[dict, np.ndarray, np.ndarray, Any]:
    params = parameter_arrays(model)
    x0 = np.asarray(model.vector(scenario), dtype=float).reshape(len(params.names))
    if parameters is not None:
        unknown = [n for n in parameters if n not in params.names]
        if unknown:
            raise InputError([Problem("unknown parameter", field="parameters", value=n) for n in unknown])
        idx = np.array([params.names.index(n) for n in parameters], dtype=np.intp)
    else:
        idx = params.index(tuple(kinds))
    idx = idx[params.span[idx] > 0]
    if len(idx) < 2:
        raise InputError(Problem("need at least two parameters with a non-empty range", field="parameters",
                                 value=len(idx)))
    problem: dict = {"num_vars": len(idx), "names": [params.names[i] for i in idx],
                     "bounds": [[float(params.low[i]), float(params.high[i])] for i in idx]}
    if by == "group":
        problem["groups"] = [params.group[i] for i in idx]
    elif by != "parameter":
        raise InputError(Problem("by must be 'parameter' or 'group'", field="by", value=by))
    return problem, idx, x0, params


def _runs(model: PathwayModel, x0: np.ndarray, idx: np.ndarray, sample: np.ndarray, output: str, chunk: int,
          dask: Any, progress: Progress | None = None) -> np.ndarray:
    X = np.tile(x0, (len(sample), 1))
    X[:, idx] = sample
    merged = evaluate_in_chunks(model, X, functools.partial(_reduce_output, output=output), chunk=chunk, dask=dask,
                                progress=progress)
    return merged["y"]


def _meta(params: Any, idx: np.ndarray) -> dict[str, tuple[str, str]]:
    return {params.names[i]: (params.group[i], params.kind[i]) for i in idx}


def _f(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def sobol_indices(y: np.ndarray, d: int, n: int, *, second_order: bool = True, num_resamples: int = 100,
                  conf_level: float = 0.95, seed: int = 0, block: int = 25) -> dict[str, np.ndarray]:
    """S1, ST (and S2) with bootstrap confidence intervals from the outputs ``y`` of a Saltelli/Sobol' sample.

    The estimators and the bootstrap of ``SALib.analyze.sobol.analyze`` (SALib 1.6: output standardised;
    S1 and ST after Saltelli et al. 2010, S2 after Saltelli 2002; resample indices drawn with
    ``numpy.random.default_rng(seed).integers(n, size=(n, num_resamples))``; interval ``Z·sd``), vectorised
    over factors, pairs and resamples instead of SALib's loop over pairs, which dominates the run time for many
    factors: a resample's mean is the mean weighted by how often each row was drawn, so every resample of
    every index is one matrix product with the draw counts (S2 rows in blocks of ``block`` factors). Unlike
    SALib, seed 0 is a seed too (SALib falls back to the global NumPy generator for a falsy seed).
    """
    from scipy.stats import norm

    if not 0 < conf_level < 1:
        raise InputError(Problem("conf_level must be in (0, 1)", field="conf_level", value=conf_level))
    step = 2 * d + 2 if second_order else d + 2
    y = np.asarray(y, dtype=float)
    if y.size != n * step:
        raise InputError(Problem(f"expected {n * step} outputs for n={n}, {d} factors, got {y.size}", field="y",
                                 value=y.size))
    y = (y - y.mean()) / y.std()
    rows = y.reshape(n, step)
    a, b = rows[:, 0], rows[:, step - 1]
    ab = rows[:, 1:d + 1]
    ba = rows[:, d + 1:2 * d + 1] if second_order else None
    eps = np.finfo(float).eps
    r = np.random.default_rng(seed).integers(n, size=(n, num_resamples))
    # every estimator is a mean over the n rows; a bootstrap resample is the same mean weighted by how often
    # each row was drawn, so all resamples are one matrix product with the counts W (1 + R, n)
    weights = np.vstack([np.ones(n), np.stack([np.bincount(r[:, j], minlength=n) for j in range(num_resamples)])])

    def mean(values: np.ndarray) -> np.ndarray:
        return weights @ values / n

    m1 = (mean(a) + mean(b)) / 2
    var = (mean(a * a) + mean(b * b)) / 2 - m1 * m1  # variance of (A, B) stacked, as np.var(np.r_[A, B])
    var = np.where(var > eps, var, np.inf)  # a constant resample gives indices of 0, as SALib does
    s1_all = mean(b[:, None] * (ab - a[:, None])) / var[:, None]
    st_all = 0.5 * mean((a[:, None] - ab) ** 2) / var[:, None]
    z = norm.ppf(0.5 + conf_level / 2)
    constant = np.ptp(np.concatenate([a[r], b[r]])) == 0.0
    out = {"S1": s1_all[0], "ST": st_all[0],
           "S1_conf": np.zeros(d) if constant else z * s1_all[1:].std(axis=0, ddof=1),
           "ST_conf": np.zeros(d) if constant else z * st_all[1:].std(axis=0, ddof=1)}
    if second_order:
        upper = np.triu(np.ones((d, d), dtype=bool), k=1)
        s2_all = np.empty((len(weights), d, d))
        for start in range(0, d, block):  # rows of the (d, d) matrix in blocks to bound memory
            rows_j = slice(start, min(start + block, d))
            cross = mean((ba[:, rows_j, None] * ab[:, None, :]).reshape(n, -1)).reshape(len(weights), -1, d)
            s2_all[:, rows_j] = (cross - mean(a * b)[:, None, None]) / var[:, None, None]
        s2_all -= s1_all[:, :, None] + s1_all[:, None, :]
        out["S2"] = np.where(upper, s2_all[0], np.nan)
        out["S2_conf"] = np.where(upper, z * s2_all[1:].std(axis=0, ddof=1), np.nan)
    return out


def sobol(model: PathwayModel, scenario: Any, n: int, *, second_order: bool = True, seed: int,
          output: str = "cumulative_co2", kinds: Sequence[str] = ("lever", "uncertain"),
          parameters: Sequence[str] | None = None, by: str = "parameter", num_resamples: int = 100,
          conf_level: float = 0.95, chunk: int = DEFAULT_CHUNK, dask: Any = None,
          progress: Progress | None = None) -> SensitivityResult:
    """Sobol indices of ``output`` over the chosen factors (``by="group"``: one index per lever group).

    ``n`` must be a power of two (Sobol' sequence balance). Deterministic for a given ``seed``. ``progress``
    is told the runs evaluated after each chunk (:mod:`citycarbon.progress`).
    """
    from SALib.sample import sobol as sobol_sample

    n = int(n)
    if n < 2 or n & (n - 1):
        raise InputError(Problem("n must be a power of two ≥ 2 (Sobol' sequence)", field="n", value=n))
    problem, idx, x0, params = _problem(model, scenario, kinds, parameters, by)
    sample = sobol_sample.sample(problem, n, calc_second_order=second_order, seed=int(seed))
    y = _runs(model, x0, idx, sample, output, chunk, dask, progress)
    name, code = scenario_label(scenario)
    provenance = Provenance("Sobol variance-based sensitivity (Saltelli sampling, SALib)", METHOD_VERSION,
                            standards=list(SOBOL_STANDARDS),
                            parameters={"scenario": name, "code": code, "n": n, "seed": int(seed), "output": output,
                                        "second_order": second_order, "by": by, "num_resamples": num_resamples,
                                        "conf_level": conf_level, **model_provenance(model)})
    labels = problem["names"] if by == "parameter" else list(dict.fromkeys(problem["groups"]))
    meta = _meta(params, idx)
    group_of = {label: (meta[label] if by == "parameter" else (label, "group")) for label in labels}
    result = SensitivityResult("sobol", output, name, code, n, len(y), int(seed), [], provenance=provenance)
    if not np.all(np.isfinite(y)):
        raise InputError(Problem("the model returned non-finite output values", field="output", value=output))
    if np.ptp(y) == 0:
        result.note = "output does not vary over the sampled ranges: every index is 0"
        result.factors = [{"name": label, "group": group_of[label][0], "kind": group_of[label][1], "S1": 0.0,
                           "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0} for label in labels]
        return result
    indices = sobol_indices(y, len(labels), n, second_order=second_order, num_resamples=num_resamples,
                            conf_level=conf_level, seed=int(seed))
    factors = [{"name": label, "group": group_of[label][0], "kind": group_of[label][1],
                "S1": _f(indices["S1"][j]), "S1_conf": _f(indices["S1_conf"][j]),
                "ST": _f(indices["ST"][j]), "ST_conf": _f(indices["ST_conf"][j])} for j, label in enumerate(labels)]
    result.factors = sorted(factors, key=lambda f: -(f["ST"] or 0.0))
    if second_order:
        s2, s2c = indices["S2"], indices["S2_conf"]
        pairs = [{"a": labels[a], "b": labels[b], "S2": _f(s2[a, b]), "S2_conf": _f(s2c[a, b])}
                 for a in range(len(labels)) for b in range(a + 1, len(labels))]
        result.second_order = sorted(pairs, key=lambda p: -abs(p["S2"] or 0.0))
    return result


def morris(model: PathwayModel, scenario: Any, n: int, *, seed: int, num_levels: int = 4,
           output: str = "cumulative_co2", kinds: Sequence[str] = ("lever", "uncertain"),
           parameters: Sequence[str] | None = None, num_resamples: int = 100, conf_level: float = 0.95,
           chunk: int = DEFAULT_CHUNK, dask: Any = None, progress: Progress | None = None) -> SensitivityResult:
    """Morris elementary effects of ``output`` (``n`` trajectories), sorted by ``μ*`` (largest first);
    ``progress`` is told the runs evaluated after each chunk."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    n = int(n)
    if n < 2:
        raise InputError(Problem("n (trajectories) must be ≥ 2", field="n", value=n))
    problem, idx, x0, params = _problem(model, scenario, kinds, parameters, "parameter")
    sample = morris_sample.sample(problem, n, num_levels=num_levels, seed=int(seed))
    y = _runs(model, x0, idx, sample, output, chunk, dask, progress)
    if not np.all(np.isfinite(y)):
        raise InputError(Problem("the model returned non-finite output values", field="output", value=output))
    with np.errstate(divide="ignore", invalid="ignore"):
        indices = morris_analyze.analyze(problem, sample, y, num_resamples=num_resamples, conf_level=conf_level,
                                         print_to_console=False, num_levels=num_levels, seed=int(seed))
    name, code = scenario_label(scenario)
    meta = _meta(params, idx)
    factors = [{"name": label, "group": meta[label][0], "kind": meta[label][1],
                "mu_star": _f(indices["mu_star"][j]), "mu_star_conf": _f(indices["mu_star_conf"][j]),
                "mu": _f(indices["mu"][j]), "sigma": _f(indices["sigma"][j])}
               for j, label in enumerate(problem["names"])]
    provenance = Provenance("Morris elementary effects (SALib)", METHOD_VERSION, standards=list(MORRIS_STANDARDS),
                            parameters={"scenario": name, "code": code, "n": n, "seed": int(seed), "output": output,
                                        "num_levels": num_levels, "num_resamples": num_resamples,
                                        "conf_level": conf_level, **model_provenance(model)})
    return SensitivityResult("morris", output, name, code, n, len(y), int(seed),
                             sorted(factors, key=lambda f: -(f["mu_star"] or 0.0)), provenance=provenance)
