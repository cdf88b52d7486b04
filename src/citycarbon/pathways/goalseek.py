"""Goal-seek: lever settings that meet every plan target while staying closest to a scenario (issue 5 §7).

Problem
-------
Over the levers that policy can move (kind ``lever``, a non-zero ``direction``, not in an excluded group
such as the GDP ``baseline``), each within its ``[min, max]``, find ``x`` minimising the normalised
distance to the scenario ``d(x) = sqrt(Σ_j w_j ((x_j − s_j) / (max_j − min_j))²)`` (``w_j = 1``, or the
``cost`` weights given) subject to every chosen target being met — on the central run, or with
``probability=p``: in at least a share ``p`` of a fixed Latin-hypercube ensemble of the uncertain
parameters (common random numbers, so the constraint is deterministic).

Method (deterministic for a ``seed``)
------
1. If the scenario already meets every target it is the answer. A target that is met neither at the
   scenario, nor with every lever at its most ambitious end (its ``direction`` end), nor at its own most
   favourable corner (each lever at the end that, moved alone, gives that target the larger margin) is
   reported as infeasible with its best margin there, and the search continues for the others.
2. Rays: from the scenario towards the most ambitious corner, each target's favourable corner and
   ``starts − 1`` seeded random points of the ambitious box; the first feasible point of each ray is
   bracketed on a grid and refined by bisection (all rays evaluated together, one vectorised call per step).
3. Polish (central run only): SLSQP (Kraft 1988, DFVLR-FB 88-28; ``scipy.optimize.minimize``) from the best
   ray points, the targets' margins (scaled) as inequality constraints, gradients by forward differences
   computed in one vectorised call. Margins that are steps (the peak year) give no gradient; the ray
   results stand for those.
4. Every polished point is pulled back towards the scenario along its segment as far as it stays feasible
   (the ray points already are), and the closest feasible candidate is returned.

A target *binds* when it is met at the answer with a margin ≈ 0 (within 0.1 % of the larger of its margins
at the scenario and at the range ends), or is lost at a point 0.1 % of the way back towards the scenario
(step-like margins such as the peak year): these are the targets that shape the answer.

Least cost (issue 17, ``objective="least-cost"``)
-----------
Minimise the NPV of the energy-system cost (``Outputs.npv()``, CNY, the central run with the scenario's
uncertain and cost parameters) over the same levers and constraints. With a probability, a target's margin is
the ensemble's order statistic (the ``R − ⌈pR⌉``-th smallest margin: ≥ 0 exactly when a share p is met; a sample
approximation of the chance constraint, Luedtke & Ahmed 2008), continuous in the levers, and a target out of
reach with P ≥ p is sought on the central run. Method: the corners as above, then every target they miss gets
its margin maximised alone (L-BFGS-B); rays from the scenario give feasible starts; SLSQP minimises the NPV from
the two cheapest with forward differences of NPV and margins in one call; each polished point's segment back to
the scenario is searched for its cheapest feasible point (the pull-back, on cost); coordinate descent (Wright
2015) ends it. ``keep_scenario`` cuts each range at the scenario's value on its unambitious side. The result
says the answer's cost (``cost``), why each target not met stays out of reach (``why``: levers at the end of
their range with their potential row, capacity paths capped by their potential in the target year, the
uncertain parameters that decide it and the value needed) and the potentials the answer reaches.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc

from citycarbon.errors import InputError, Problem
from citycarbon.pathways.uncertainty import (
    DEFAULT_CHUNK,
    PathwayModel,
    _inverse_cdf,
    load_distributions,
    model_provenance,
    parameter_arrays,
    scenario_label,
    target_info,
)
from citycarbon.progress import Progress, or_silent
from citycarbon.provenance import Provenance

__all__ = ["OBJECTIVES", "SeekResult", "seek", "why_not"]

METHOD_VERSION = "1"
STANDARDS: tuple[str, ...] = (
    "Kraft (1988) DFVLR-FB 88-28 (SLSQP)",
    "McKay, Beckman & Conover (1979) Technometrics 21:239-245 (Latin hypercube, probability constraints)",
)
_GRID = 33  # points per ray when bracketing the first feasible point
_BISECT = 20  # bisection steps after the grid: 1/32 · 2^-20 of a ray, far below any lever's resolution
_SLACK = 1e-7  # SLSQP constraints ask for a scaled margin this far above 0, so its answer is strictly met
_TIGHT = 1e-3  # a met target binds when its margin is within this share of its scale (margin ≈ 0)
_BACKOFF = 1e-3  # a target binds if it fails this share of the way back towards the scenario
#: methods of the least-cost seek (issue 17), added to STANDARDS in its provenance
LEAST_COST_STANDARDS: tuple[str, ...] = (
    "Luedtke & Ahmed (2008) SIAM J. Optim. 19(2):674-699 (sample approximation of probabilistic constraints)",
    "Wright (2015) Math. Program. 151:3-34 (coordinate descent)",
    "Loulou et al. (2016) Documentation for the TIMES Model, ETSAP (least-cost energy-system optimisation)",
)
#: what a seek minimises: the distance to the scenario, or the NPV of the energy-system cost (issue 17)
OBJECTIVES = ("distance", "least-cost")
_DESCENT_GRID = 9  # values per lever tried by a coordinate-descent pass (plus fine steps around the value)
_DESCENT_PASSES = 40  # at most this many coordinate moves (central); a quarter of them with a probability
#: steps a seek reports to ``progress``: corners, rays, up to three polished starts, the final check
SEEK_STEPS = 6


@dataclass
class SeekResult:
    """Lever values found, how far they are from the scenario, which targets bind, what cannot be met."""

    scenario: str
    code: str | None
    feasible: bool  # every chosen target met
    levers: list[dict]  # name, group, unit, scenario, value, min, max, change
    distance: float  # normalised distance to the scenario
    targets: list[dict]  # id, met, margin (at the answer), binding, margin_at_scenario, margin_at_max
    infeasible: list[dict]  # targets not met even at the most ambitious levers, with margin there
    probability: float | None
    runs: int | None
    seed: int
    evaluations: int
    notes: list[str] = field(default_factory=list)
    provenance: Provenance | None = None
    # issue 17 (seek): the objective, the answer's cost, why unreachable targets stay out of reach
    objective: str = "distance"
    cost: dict | None = None  # npv_cny, npv_scenario_cny, npv_bau_cny, npv_change_cny, annual_change_cny
    why: dict[str, dict] = field(default_factory=dict)  # target id → what binds (levers, capacity, parameters)
    binding_potentials: list[dict] = field(default_factory=list)  # potentials the answer reaches
    central_only: list[str] = field(default_factory=list)  # with a probability: targets met on the central run only

    @property
    def binding(self) -> list[str]:
        return [t["id"] for t in self.targets if t["binding"]]

    def values(self) -> dict[str, float]:
        return {lever["name"]: lever["value"] for lever in self.levers}

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "code": self.code, "feasible": self.feasible, "distance": self.distance,
                "levers": self.levers, "targets": self.targets, "binding": self.binding,
                "infeasible": self.infeasible, "probability": self.probability, "runs": self.runs,
                "seed": self.seed, "evaluations": self.evaluations, "notes": self.notes,
                "provenance": self.provenance.to_dict() if self.provenance else None,
                "objective": self.objective, "cost": self.cost, "why": self.why,
                "binding_potentials": self.binding_potentials, "central_only": self.central_only}

    def rows(self) -> list[dict]:
        return [{"措施 / lever": lv["name"], "组 / group": lv["group"], "方案值 / scenario": lv["scenario"],
                 "建议值 / sought": lv["value"], "变化 / change": lv["change"], "单位 / unit": lv["unit"]}
                for lv in self.levers]


class _Problem:
    """Evaluation of candidate lever vectors: every target's met flag and margin (central or probability)."""

    def __init__(self, model: PathwayModel, x_s: np.ndarray, lever_idx: np.ndarray, targets: Sequence[str] | str,
                 probability: float | None, runs: int, seed: int, chunk: int, fixed: frozenset[str] = frozenset(),
                 quantile: bool = False):
        self.model, self.x_s, self.idx, self.probability, self.chunk = model, x_s, lever_idx, probability, chunk
        self.quantile = quantile  # probability margins as the ensemble's order statistic (least-cost seek)
        self.central_only: set[str] = set()  # targets judged on the central run (not reachable with P ≥ p)
        self.evaluations = 0
        self.draws: np.ndarray | None = None
        params = parameter_arrays(model)
        if probability is not None:
            unc = np.array([i for i in params.index(("uncertain",)) if params.names[i] not in fixed], dtype=np.intp)
            if len(unc):
                dists = load_distributions(model, [params.names[i] for i in unc])
                u = qmc.LatinHypercube(d=len(unc), rng=np.random.default_rng(seed)).random(runs)
                self.draws = np.tile(x_s, (runs, 1))
                self.draws[:, unc] = _inverse_cdf(u, params.low[unc], params.high[unc], params.default[unc], dists)
        probe = self._raw(x_s[None, :])
        available = list(probe)
        if targets == "all":
            self.targets = available
        else:
            unknown = [t for t in targets if t not in available]
            if unknown:
                raise InputError([Problem(f"unknown target (known: {', '.join(available)})", field="targets",
                                          value=t) for t in unknown])
            self.targets = list(targets)
        if not self.targets:
            raise InputError(Problem("the model reports no targets to seek", field="targets"))

    def full(self, Z: np.ndarray) -> np.ndarray:
        """Full parameter vectors for lever values ``Z`` (n, |levers|)."""
        X = np.tile(self.x_s, (len(Z), 1))
        X[:, self.idx] = Z
        return X

    def _raw(self, X: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        self.evaluations += len(X) * (1 if self.draws is None else len(self.draws))
        if self.draws is None:
            return self._central(X)[0]
        runs = len(self.draws)
        if self.quantile:
            return self._quantile(X)
        met_share: dict[str, list[np.ndarray]] = {}
        for size, res in self._on_ensemble(X):
            for key, (met, _) in res.items():
                met_share.setdefault(key, []).append(np.asarray(met, dtype=bool).reshape(size, runs).mean(1))
        p = float(self.probability)  # type: ignore[arg-type]
        return {key: (np.concatenate(v) >= p, np.concatenate(v) - p) for key, v in met_share.items()}

    def _on_ensemble(self, X: np.ndarray) -> Iterator[tuple[int, dict[str, tuple[np.ndarray, np.ndarray]]]]:
        """Each lever vector of ``X`` on every draw of the fixed ensemble, evaluated in chunks: yields (rows in the
        chunk, the targets of rows × draws runs, draw index fastest)."""
        assert self.draws is not None
        per = max(1, self.chunk // len(self.draws))
        for start in range(0, len(X), per):
            block = X[start:start + per]
            big = np.repeat(self.draws[None, :, :], len(block), axis=0)
            big[:, :, self.idx] = block[:, None, self.idx]
            yield len(block), self.model.evaluate(big.reshape(-1, big.shape[2])).targets()

    def _central(self, X: np.ndarray, cost: bool = False
                 ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], np.ndarray | None]:
        """Targets (met, margin) of the runs ``X`` and, with ``cost``, their NPV (``Outputs.npv()``, CNY)."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        npvs: list[np.ndarray] = []
        for start in range(0, len(X), self.chunk):
            result = self.model.evaluate(X[start:start + self.chunk])
            for key, (met, margin) in result.targets().items():
                prev = out.get(key)
                met, margin = np.asarray(met, dtype=bool), np.asarray(margin, dtype=float)
                out[key] = (met, margin) if prev is None else (np.concatenate([prev[0], met]),
                                                               np.concatenate([prev[1], margin]))
            if cost:
                npv = getattr(result, "npv", None)
                if npv is None:
                    raise InputError(Problem("the model reports no cost (Outputs.npv) to minimise",
                                             field="objective", value="least-cost"))
                npvs.append(np.asarray(npv(), dtype=float).reshape(-1))
        return out, (np.concatenate(npvs) if cost else None)

    def _quantile(self, X: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Probability constraint as an order statistic: met when at least a share p of the ensemble meets the
        target, margin = the ``R − ceil(pR)``-th smallest margin over the R runs (≥ 0 ⇔ share ≥ p), which is
        continuous in the levers where the share is a step (so SLSQP gets gradients)."""
        assert self.draws is not None and self.probability is not None
        runs = len(self.draws)
        k = runs - int(np.ceil(self.probability * runs - 1e-9))
        out: dict[str, list[np.ndarray]] = {}
        for size, res in self._on_ensemble(X):
            for key, (met, margin) in res.items():
                share = np.asarray(met, dtype=bool).reshape(size, runs).mean(1)
                order = np.partition(np.asarray(margin, dtype=float).reshape(size, runs), k, axis=1)[:, k]
                out.setdefault(key, []).append(np.where(share >= self.probability - 1e-12,
                                                        np.maximum(order, 0.0), np.minimum(order, -1e-12)))
        result = {key: (np.concatenate(v) >= 0.0, np.concatenate(v)) for key, v in out.items()}
        if self.central_only:
            self.evaluations += len(X)
            central = self._central(X)[0]
            result.update({key: central[key] for key in self.central_only})
        return result

    def evaluate_cost(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(met, margin, NPV (n,) of the central run) of lever values ``Z``."""
        X = self.full(np.atleast_2d(Z))
        if self.draws is None:
            self.evaluations += len(X)
            raw, npv = self._central(X, cost=True)
        else:
            raw = self._raw(X)
            self.evaluations += len(X)
            npv = self._central(X, cost=True)[1]
        met = np.column_stack([raw[t][0] for t in self.targets])
        margin = np.column_stack([raw[t][1] for t in self.targets])
        assert npv is not None
        return met, margin, npv

    def evaluate(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(met (n, T) bool, margin (n, T)) for the chosen targets."""
        raw = self._raw(self.full(np.atleast_2d(Z)))
        met = np.column_stack([raw[t][0] for t in self.targets])
        margin = np.column_stack([raw[t][1] for t in self.targets])
        return met, margin


def _target_corners(problem: _Problem, s: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """For each target, every lever at the end of its range that gives that target the larger margin when the
    lever alone is moved from the scenario (a lever with no effect stays at the scenario's value)."""
    m = len(s)
    probe = np.tile(s, (2 * m, 1))
    probe[np.arange(m), np.arange(m)] = lo
    probe[m + np.arange(m), np.arange(m)] = hi
    _, margin = problem.evaluate(probe)
    low_margin, high_margin = margin[:m].T, margin[m:].T  # (T, m)
    return np.where(high_margin > low_margin, hi, np.where(high_margin < low_margin, lo, s))


def _first_feasible(problem: _Problem, origin: np.ndarray, ends: np.ndarray, active: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Smallest t in [0, 1] with origin + t·(end − origin) meeting the ``active`` targets, per ray; NaN if none."""
    k = len(ends)
    ts = np.linspace(0.0, 1.0, _GRID)
    Z = origin[None, None, :] + ts[None, :, None] * (ends - origin)[:, None, :]
    met, _ = problem.evaluate(Z.reshape(k * _GRID, -1))
    ok = met[:, active].all(axis=1).reshape(k, _GRID)
    found = ok.any(axis=1)
    first = np.where(found, ok.argmax(axis=1), _GRID - 1)
    lo = np.where(first > 0, ts[np.maximum(first - 1, 0)], 0.0)
    hi = ts[first]
    lo = np.where(first == 0, 0.0, lo)
    for _ in range(_BISECT):
        mid = 0.5 * (lo + hi)
        pts = origin[None, :] + mid[:, None] * (ends - origin)
        m, _ = problem.evaluate(pts)
        good = m[:, active].all(axis=1)
        hi = np.where(good, mid, hi)
        lo = np.where(good, lo, mid)
    t = np.where(found, hi, np.nan)
    t = np.where(found & (first == 0), 0.0, t)
    return t, origin[None, :] + np.nan_to_num(t)[:, None] * (ends - origin)


def seek(model: PathwayModel, scenario: Any, *, seed: int = 0, targets: Sequence[str] | str = "all",
         cost: Mapping[str, float] | None = None, levers: Sequence[str] | None = None,
         exclude_groups: Sequence[str] = ("baseline",), probability: float | None = None, runs: int = 200,
         starts: int = 8, polish: bool = True, chunk: int = DEFAULT_CHUNK,
         progress: Progress | None = None, objective: str = "distance",
         potentials: Sequence[Mapping[str, Any]] | None = None, keep_scenario: bool = False) -> SeekResult:
    """Lever settings meeting ``targets`` closest to ``scenario`` (see the module docstring for the method), or
    with ``objective="least-cost"`` the cheapest (lowest NPV of the energy-system cost, ``Outputs.npv()``).

    ``potentials``: the rows of ``potentials.csv`` (id, name_zh, name_en, technology, lever, value, unit, source,
    status) used to say what binds; default: the shipped file. ``keep_scenario``: no lever may be less
    ambitious than the scenario (its range is cut at the scenario's value on the unambitious side: "what it
    takes beyond the scenario"). ``progress`` (:mod:`citycarbon.progress`) is told
    the steps done out of :data:`SEEK_STEPS`: the corners, the rays, each polished start, the final check (steps
    not needed are skipped over)."""
    if objective not in OBJECTIVES:
        raise InputError(Problem(f"objective must be one of {', '.join(OBJECTIVES)}", field="objective",
                                 value=objective))
    if cost and objective != "distance":
        raise InputError(Problem("move weights (cost) apply to the distance objective only", field="cost"))
    params = parameter_arrays(model)
    p = len(params.names)
    x_s = np.asarray(model.vector(scenario), dtype=float).reshape(p)
    if levers is not None:
        unknown = [n for n in levers if n not in params.names or params.kind[params.names.index(n)] != "lever"]
        if unknown:
            raise InputError([Problem("not a lever of the model", field="levers", value=n) for n in unknown])
        idx = np.array([params.names.index(n) for n in levers], dtype=np.intp)
    else:
        idx = np.array([i for i in range(p) if params.kind[i] == "lever" and params.direction[i] != 0
                        and params.group[i] not in exclude_groups], dtype=np.intp)
    idx = idx[params.span[idx] > 0]
    if not len(idx):
        raise InputError(Problem("no lever with a range to move", field="levers"))
    if probability is not None and not 0.0 < float(probability) <= 1.0:
        raise InputError(Problem("probability must be in (0, 1]", field="probability", value=probability))
    if int(runs) < 1:
        raise InputError(Problem("runs must be ≥ 1", field="runs", value=runs))
    lo, hi, span = params.low[idx], params.high[idx], params.span[idx]
    weight = np.ones(len(idx))
    if cost:
        names = [params.names[i] for i in idx]
        for key, value in cost.items():
            if key not in names:
                raise InputError(Problem("cost given for a lever that is not sought", field="cost", value=key))
            if not np.isfinite(value) or value <= 0:
                raise InputError(Problem("cost weights must be positive", field=f"cost.{key}", value=value))
            weight[names.index(key)] = float(value)
    s = np.clip(x_s[idx], lo, hi)
    direction = np.sign(params.direction[idx])
    if keep_scenario:  # the scenario's setting becomes the unambitious end of each range
        lo, hi = np.where(direction > 0, s, lo), np.where(direction < 0, s, hi)
        tiny = 1e-12 * span
        pinned = hi - lo <= tiny  # the scenario sits at the ambitious end: a sliver inside the range keeps it
        lo = np.where(pinned & (s > params.low[idx]), s - tiny, lo)
        hi = np.where(pinned & ~(s > params.low[idx]), s + tiny, hi)
        span = hi - lo
    ambitious = np.where(direction > 0, hi, np.where(direction < 0, lo, s))
    problem = _Problem(model, x_s, idx, targets, None if probability is None else float(probability), int(runs),
                       int(seed), chunk, frozenset(getattr(scenario, "parameters", None) or ()),
                       quantile=objective == "least-cost")

    def distance(z: np.ndarray) -> np.ndarray:
        return np.sqrt((weight * ((np.atleast_2d(z) - s) / span) ** 2).sum(axis=1))

    report = or_silent(progress)
    report(0, SEEK_STEPS, "")
    met_s, margin_s = problem.evaluate(s)
    met_a, margin_a = problem.evaluate(ambitious)
    met_s, margin_s, met_a, margin_a = met_s[0], margin_s[0], met_a[0], margin_a[0]
    corners = _target_corners(problem, s, lo, hi)  # (T, levers): each target's own most favourable corner
    met_c, margin_c = problem.evaluate(corners)
    own = np.arange(len(problem.targets))
    met_c, margin_c = met_c[own, own], margin_c[own, own]
    report(1, SEEK_STEPS, "corners")
    active = met_s | met_a | met_c
    best_margin = np.maximum(margin_a, margin_c)
    infeasible = [{"id": t, "margin_at_max": float(best_margin[j]), "margin_at_scenario": float(margin_s[j])}
                  for j, t in enumerate(problem.targets) if not active[j]]
    notes: list[str] = []
    if infeasible:
        notes.append("not met even with every lever at its most ambitious end: "
                     + ", ".join(t["id"] for t in infeasible))
    least = objective == "least-cost"
    central_only: list[str] = []
    if least and probability is not None and not active.all():
        # a target out of reach with P ≥ p is still sought on the central run (met there if it can be)
        central_only = [t for j, t in enumerate(problem.targets) if not active[j]]
        problem.central_only.update(central_only)
        met_s, margin_s = (a[0] for a in problem.evaluate(s))
        met_a, margin_a = (a[0] for a in problem.evaluate(ambitious))
        met_c, margin_c = problem.evaluate(corners)
        met_c, margin_c = met_c[own, own], margin_c[own, own]
        active = met_s | met_a | met_c
        best_margin = np.maximum(margin_a, margin_c)
        for row in infeasible:
            j = problem.targets.index(str(row["id"]))
            row.update({"margin_at_max": float(best_margin[j]), "margin_at_scenario": float(margin_s[j])})
        notes.append(f"not reachable with P ≥ {probability}, sought on the central run: " + ", ".join(central_only))
        infeasible = [t for t in infeasible if not active[problem.targets.index(str(t["id"]))]]
    if least:
        best, active = _least_cost(problem, s, lo, hi, span, ambitious, corners, active, margin_s, best_margin,
                                   seed=int(seed), starts=int(starts), polish=polish, report=report)
        # a target the corners missed but the margin search reached is sought; the others are out of reach
        infeasible = [t for t in infeasible if not active[problem.targets.index(str(t["id"]))]]
        notes = [n for n in notes if not n.startswith("not met even")]
        if infeasible:
            notes.append("not met even at its most favourable lever settings: "
                         + ", ".join(str(t["id"]) for t in infeasible))
    elif met_s[active].all():
        best = s.copy()
        notes.append("the scenario already meets every target that can be met")
    else:
        rng = np.random.default_rng(seed)
        u = rng.uniform(0.0, 1.0, size=(max(int(starts), 1) - 1, len(idx)))
        u = u / np.maximum(u.max(axis=1, keepdims=True), 1e-12)
        ends = np.vstack([ambitious, corners[active], s + u * (ambitious - s)])
        t, points = _first_feasible(problem, s, ends, active)
        report(2, SEEK_STEPS, "rays")
        candidates = [points[k] for k in range(len(ends)) if np.isfinite(t[k])]  # each already closest on its ray
        polished: list[np.ndarray] = []
        if polish and probability is None:
            scale = np.maximum(np.maximum(np.abs(margin_s), np.abs(best_margin)), 1e-12)[active]
            starts_at = ([candidates[k] for k in np.argsort(distance(np.array(candidates)))[:3]] if candidates
                         else [ambitious])
            for number, z0 in enumerate(starts_at, start=1):
                z = _slsqp(problem, z0, s, span, weight, lo, hi, active, scale)
                if z is not None:
                    polished.append(z)
                report(min(2 + number, SEEK_STEPS - 1), SEEK_STEPS, f"polish {number}")
        if polished:  # pull the polished points back towards the scenario as far as they stay feasible
            t_back, pulled = _first_feasible(problem, s, np.array(polished), active)
            candidates += [pulled[k] for k in range(len(polished)) if np.isfinite(t_back[k])]
        if candidates:
            pool = np.array(candidates)
            best = pool[np.argmin(distance(pool))]
        else:
            best = ambitious
            notes.append("the targets that can each be met cannot all be met together; showing the most "
                         "ambitious lever settings")
    met_b, margin_b = problem.evaluate(np.vstack([best, best + _BACKOFF * (s - best)]))
    report(SEEK_STEPS, SEEK_STEPS, "check")
    scale = np.maximum(np.maximum(np.abs(margin_s), np.abs(best_margin)), 1e-12)
    binding = active & met_b[0] & (~met_b[1] | (np.abs(margin_b[0]) <= _TIGHT * scale))
    name, code = scenario_label(scenario)
    lever_rows = [{"name": params.names[i], "group": params.group[i], "unit": params.unit[i],
                   "scenario": float(s[j]), "value": float(best[j]), "min": float(lo[j]), "max": float(hi[j]),
                   "change": float(best[j] - s[j])} for j, i in enumerate(idx)]
    info = target_info(model)
    target_rows = [{"id": t, **info.get(t, {}), "met": bool(met_b[0, j]), "margin": float(margin_b[0, j]),
                    "binding": bool(binding[j]),
                    "margin_at_scenario": float(margin_s[j]), "margin_at_max": float(margin_a[j]),
                    "feasible": bool(active[j])} for j, t in enumerate(problem.targets)]
    provenance = Provenance("Goal-seek: least-cost lever settings meeting the plan targets (rays + SLSQP + "
                            "coordinate descent)" if least else
                            "Goal-seek: closest lever settings meeting the plan targets (rays + SLSQP)",
                            METHOD_VERSION, standards=list(STANDARDS) + (list(LEAST_COST_STANDARDS) if least else []),
                            parameters={"scenario": name, "code": code, "seed": int(seed), "targets": problem.targets,
                                        "probability": probability, "runs": int(runs) if probability else None,
                                        "cost": dict(cost) if cost else None, "starts": int(starts),
                                        "objective": objective, "keep_scenario": bool(keep_scenario),
                                        "levers": [params.names[i] for i in idx], **model_provenance(model)})
    explained = _explain(model, params, problem, idx, s, best, lo, hi, corners, active, best_margin, margin_a,
                         ambitious, potentials)
    return SeekResult(scenario=name, code=code, feasible=not infeasible and bool(met_b[0].all()),
                      levers=lever_rows, distance=float(distance(best)[0]), targets=target_rows,
                      infeasible=infeasible, probability=None if probability is None else float(probability),
                      runs=int(runs) if probability is not None else None, seed=int(seed),
                      evaluations=problem.evaluations, notes=notes, provenance=provenance, objective=objective,
                      central_only=central_only, **explained)


def _slsqp(problem: _Problem, z0: np.ndarray, s: np.ndarray, span: np.ndarray, weight: np.ndarray, lo: np.ndarray,
           hi: np.ndarray, active: np.ndarray, scale: np.ndarray) -> np.ndarray | None:
    """SLSQP from ``z0`` in normalised coordinates; forward-difference gradients in one call per iterate."""
    step = 1e-6
    cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def margins_and_jacobian(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = y.tobytes()
        if key not in cache:
            h = np.where(y + step <= 1.0, step, -step)
            Y = np.vstack([y, y + np.diag(h)])
            _, margin = problem.evaluate(lo + Y * span)
            g = margin[:, active] / scale - _SLACK
            cache.clear()
            cache[key] = (g[0], ((g[1:] - g[0]) / h[:, None]).T)
        return cache[key]

    y_s = (s - lo) / span

    def objective(y: np.ndarray) -> tuple[float, np.ndarray]:
        d = (y - y_s) * weight
        return float(((y - y_s) * d).sum()), 2.0 * d

    y = _box_slsqp(objective, lambda y: margins_and_jacobian(y)[0], lambda y: margins_and_jacobian(y)[1],
                   (z0 - lo) / span)
    return None if y is None else lo + y * span


def _box_slsqp(objective: Any, margins: Any, jacobian: Any, y0: np.ndarray) -> np.ndarray | None:
    """SLSQP (Kraft 1988) on the unit box from ``y0``: ``objective`` returns (value, gradient), the margins ≥ 0 are
    the constraints with their ``jacobian``; the answer clipped to the box, None when not finite (feasibility is
    checked by the caller)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # SLSQP may step outside the bounds and clip; the answer is clipped and checked for feasibility after
        warnings.filterwarnings("ignore", message="Values in x were outside bounds", category=RuntimeWarning)
        result = minimize(objective, y0, jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * len(y0),
                          constraints=[{"type": "ineq", "fun": margins, "jac": jacobian}],
                          options={"maxiter": 100, "ftol": 1e-10})
    y = np.clip(result.x, 0.0, 1.0)
    return y if np.all(np.isfinite(y)) else None


# issue 17 (seek): least-cost goal-seek and what binds --------------------------------------------------------


def _fd_rows(y: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    h = np.where(y + step <= 1.0, step, -step)
    return np.vstack([y, y + np.diag(h)]), h


def _max_margin(problem: _Problem, z0: np.ndarray, lo: np.ndarray, span: np.ndarray, j: int,
                scale: float) -> np.ndarray:
    """The lever values (from ``z0``) that maximise target ``j``'s margin alone: SLSQP on the bounds only,
    forward-difference gradients in one call per iterate (the reachability check of a least-cost seek)."""
    step = 1e-6

    def fun(y: np.ndarray) -> tuple[float, np.ndarray]:
        Y, h = _fd_rows(y, step)
        _, margin = problem.evaluate(lo + Y * span)
        g = -margin[:, j] / scale
        return float(g[0]), (g[1:] - g[0]) / h

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Values in x were outside bounds", category=RuntimeWarning)
        result = minimize(fun, (z0 - lo) / span, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * len(z0),
                          options={"maxiter": 40})
    y = np.clip(result.x, 0.0, 1.0)
    return lo + np.nan_to_num(y, nan=0.0) * span


def _slsqp_cost(problem: _Problem, z0: np.ndarray, lo: np.ndarray, span: np.ndarray, active: np.ndarray,
                scale: np.ndarray, npv_scale: float) -> np.ndarray | None:
    """SLSQP minimising the NPV (scaled by the scenario's) with the scaled margins as constraints; the NPV's and
    the margins' forward-difference gradients come from one vectorised call per iterate."""
    step = 1e-6
    cache: dict[bytes, tuple[float, np.ndarray, np.ndarray, np.ndarray]] = {}

    def values(y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        key = y.tobytes()
        if key not in cache:
            Y, h = _fd_rows(y, step)
            _, margin, npv = problem.evaluate_cost(lo + Y * span)
            c = npv / npv_scale
            g = margin[:, active] / scale - _SLACK
            cache.clear()
            cache[key] = (float(c[0]), (c[1:] - c[0]) / h, g[0], ((g[1:] - g[0]) / h[:, None]).T)
        return cache[key]

    y = _box_slsqp(lambda y: values(y)[:2], lambda y: values(y)[2], lambda y: values(y)[3], (z0 - lo) / span)
    return None if y is None else lo + y * span


def _cheapest(problem: _Problem, Z: np.ndarray, active: np.ndarray) -> tuple[np.ndarray | None, float]:
    """The feasible row of ``Z`` (every active target met) with the lowest NPV, and that NPV (None, inf: none)."""
    met, _, npv = problem.evaluate_cost(Z)
    ok = met[:, active].all(axis=1) & np.isfinite(npv)
    if not ok.any():
        return None, np.inf
    k = int(np.argmin(np.where(ok, npv, np.inf)))
    return Z[k].copy(), float(npv[k])


def _descend(problem: _Problem, z: np.ndarray, cost: float, lo: np.ndarray, hi: np.ndarray, span: np.ndarray,
             active: np.ndarray, passes: int) -> tuple[np.ndarray, float]:
    """Coordinate descent on the NPV that stays feasible: each pass tries every lever alone on a grid of its
    range and a few fine steps around its value (one vectorised call) and takes the cheapest feasible move;
    it stops when no single-lever move lowers the cost. Handles step-like margins (the peak year) and the
    kinks SLSQP leaves."""
    grid = np.linspace(0.0, 1.0, _DESCENT_GRID)
    fine = np.array([-0.05, -0.01, -0.002, 0.002, 0.01, 0.05])
    for _ in range(passes):
        blocks = []
        for j in range(len(z)):
            vals = np.unique(np.clip(np.concatenate([lo[j] + grid * span[j], z[j] + fine * span[j]]), lo[j], hi[j]))
            vals = vals[np.abs(vals - z[j]) > 1e-12 * max(span[j], 1.0)]
            block = np.tile(z, (len(vals), 1))
            block[:, j] = vals
            blocks.append(block)
        candidate, value = _cheapest(problem, np.vstack(blocks), active)
        if candidate is None or not value < cost - 1e-12 * abs(cost):
            break
        z, cost = candidate, value
    return z, cost


def _least_cost(problem: _Problem, s: np.ndarray, lo: np.ndarray, hi: np.ndarray, span: np.ndarray,
                ambitious: np.ndarray, corners: np.ndarray, active: np.ndarray, margin_s: np.ndarray,
                best_margin: np.ndarray, *, seed: int, starts: int, polish: bool, report: Any
                ) -> tuple[np.ndarray, np.ndarray]:
    """The least-cost search: (1) every target the corners missed gets its margin maximised alone (it is
    reachable when that maximum is ≥ 0); (2) rays from the scenario give feasible starts; (3) SLSQP minimises
    the NPV from the cheapest starts; (4) each polished point's segment back to the scenario is searched for
    its cheapest feasible point (the pull-back, now on cost); (5) coordinate descent from the cheapest.
    Returns (answer, active targets)."""
    active = active.copy()
    scale_all = np.maximum(np.maximum(np.abs(margin_s), np.abs(best_margin)), 1e-12)
    reached: dict[int, np.ndarray] = {}
    for j in np.flatnonzero(~active):
        _, m_a = problem.evaluate(np.vstack([ambitious, corners[j]]))
        z0 = ambitious if m_a[0, j] >= m_a[1, j] else corners[j]
        z = _max_margin(problem, z0, lo, span, int(j), float(scale_all[j]))
        met, _ = problem.evaluate(z)
        if met[0, j]:
            active[j] = True
            reached[int(j)] = z
    report(2, SEEK_STEPS, "reachability")
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.0, 1.0, size=(max(starts, 1) - 1, len(s)))
    u = u / np.maximum(u.max(axis=1, keepdims=True), 1e-12)
    pool: list[np.ndarray] = []
    ok: Any = np.zeros(0, dtype=bool)
    npv: Any = np.zeros(0)
    for attempt in range(2):
        extra = [z for j, z in reached.items() if active[j]]
        ends = np.vstack([ambitious, corners[active], *extra, s + u * (ambitious - s)])
        t_ray, points = _first_feasible(problem, s, ends, active)
        pool = [points[k] for k in range(len(ends)) if np.isfinite(t_ray[k])] + [ambitious, *extra]
        met, _, npv = problem.evaluate_cost(np.array(pool))
        ok = met[:, active].all(axis=1)
        if not ok.any() and polish:  # SLSQP may still find a point meeting them together
            scale = scale_all[active]
            for z0 in [ambitious, *extra]:
                found = _slsqp_cost(problem, z0, lo, span, active, scale, 1.0 + abs(float(npv[0])))
                if found is not None:
                    pool.append(found)
            met, _, npv = problem.evaluate_cost(np.array(pool))
            ok = met[:, active].all(axis=1)
        if ok.any() or not reached or attempt:
            break
        for target in reached:  # reachable alone but not with the others: reported as out of reach
            active[target] = False
    report(3, SEEK_STEPS, "rays")
    if not ok.any():
        return ambitious.copy(), active
    order = [k for k in np.argsort(np.where(ok, npv, np.inf)) if ok[k]]
    best, cost = pool[order[0]].copy(), float(npv[order[0]])
    npv_scale = max(abs(cost), 1.0)
    if polish:
        scale = scale_all[active]
        for number, k in enumerate(order[:2], start=1):
            polished = _slsqp_cost(problem, pool[k], lo, span, active, scale, npv_scale)
            if polished is not None:  # the polished point and its segment back to the scenario, cheapest feasible
                ts = np.linspace(0.0, 1.0, _GRID)[:, None]
                candidate, value = _cheapest(problem, np.vstack([polished, s + ts * (polished - s)]), active)
                if candidate is not None and value < cost:
                    best, cost = candidate, value
            report(3 + number, SEEK_STEPS, f"polish {number}")
    passes = _DESCENT_PASSES if problem.draws is None else _DESCENT_PASSES // 4
    best, cost = _descend(problem, best, cost, lo, hi, span, active, passes)
    return best, active


def _shipped_potentials(model: Any) -> list[dict]:
    """The rows of the shipped potentials.csv for the city model (none for a model without capacity caps)."""
    if not hasattr(model, "pre"):
        return []
    from citycarbon.pathways.parameters import load_potentials

    return [dict(r) for r in load_potentials().to_dict("records")]


def _names(model: Any) -> dict[str, dict[str, str]]:
    """id → {name_zh, name_en} of the model's levers and uncertain parameters (levers.csv, parameters.csv)."""
    out = {str(lv.id): {"name_zh": str(lv.name_zh), "name_en": str(lv.name_en)}
           for lv in getattr(model, "levers", None) or () if hasattr(lv, "name_zh")}
    if hasattr(model, "pre"):
        from citycarbon.pathways.parameters import load_uncertain

        for r in load_uncertain().to_dict("records"):
            out.setdefault(str(r["id"]), {"name_zh": str(r["name_zh"]), "name_en": str(r["name_en"])})
    return out


def _potential_row(row: Mapping[str, Any]) -> dict:
    return {"id": str(row["id"]), "name_zh": str(row.get("name_zh", "")), "name_en": str(row.get("name_en", "")),
            "value": float(row["value"]), "unit": str(row.get("unit", "")), "source": str(row.get("source", "")),
            "status": str(row.get("status", ""))}


def _capacity_caps(model: Any, potentials: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], float]]:
    """(potential row, cap in MW) of every potential that caps a capacity path of the model."""
    pre = getattr(model, "pre", None) or {}
    out = []
    for row in potentials:
        tech = str(row.get("technology", ""))
        cap = pre.get("potential_" + tech)
        if cap is None and str(row.get("unit", "")) == "MW":
            cap = row["value"]
        if cap is not None and np.isfinite(float(np.asarray(cap))):
            out.append((row, float(np.asarray(cap))))
    return out


def _fmt(value: float | None, unit: str = "", share: bool = False) -> str:
    if value is None:
        return "—"
    if share and unit == "dimensionless" and abs(value) <= 1.0:
        return f"{value * 100:.3g} pp"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return f"{text} {unit}".strip() if unit and unit != "dimensionless" else text


def _explain(model: Any, params: Any, problem: _Problem, idx: np.ndarray, s: np.ndarray, best: np.ndarray,
             lo: np.ndarray, hi: np.ndarray, corners: np.ndarray, active: np.ndarray, best_margin: np.ndarray,
             margin_a: np.ndarray, ambitious: np.ndarray, potentials: Sequence[Mapping[str, Any]] | None) -> dict:
    """The answer's cost against the scenario and BAU, why each target not met stays out of reach (the levers at
    the end of their range bounded by a potential, capacity paths capped by their potential in the target year,
    the uncertain parameters outside the city's control that decide it, with the value needed), and the
    potentials the answer reaches."""
    rows = list(potentials) if potentials is not None else _shipped_potentials(model)
    by_lever = {str(r.get("lever", "")): r for r in rows if r.get("lever")}
    caps = _capacity_caps(model, rows)
    names = _names(model)
    info = target_info(model)
    specs = {str(sp["id"]): sp for sp in getattr(model, "target_specs", None) or ()}
    x_s = problem.x_s
    x_best = problem.full(best[None, :])[0]
    x_scen = problem.full(s[None, :])[0]
    x_bau = x_s.copy()
    levers_all = np.array([i for i, k in enumerate(params.kind) if k == "lever"], dtype=np.intp)
    x_bau[levers_all] = params.default[levers_all]
    out = model.evaluate(np.vstack([x_best, x_scen, x_bau]))
    years = [int(y) for y in np.asarray(out.years)]
    series = getattr(out, "series", {}) or {}
    cost: dict | None = None
    if callable(getattr(out, "npv", None)):
        from citycarbon.pathways.costs import SECTORS

        npv = np.asarray(out.npv(), dtype=float)
        annual: dict[str, dict[str, float]] = {}
        for year in (2030, 2060):
            if year in years:
                i = years.index(year)
                annual[str(year)] = {sector: float(series[key][0, i] - series[key][1, i])
                                     for sector in (*SECTORS, "total")
                                     if (key := f"cost_{sector}_cny") in series}
        cost = {"unit": "CNY", "npv_cny": float(npv[0]), "npv_scenario_cny": float(npv[1]),
                "npv_bau_cny": float(npv[2]), "npv_change_cny": float(npv[0] - npv[1]),
                "npv_change_vs_bau_cny": float(npv[0] - npv[2]), "annual_change_cny": annual}
    # potentials the answer reaches
    reached: list[dict] = []
    for j, i in enumerate(idx):
        row = by_lever.get(params.names[i])
        if row is not None and best[j] >= hi[j] - 1e-9 * max(abs(hi[j]), 1.0):
            reached.append({**_potential_row(row), "kind": "lever", "lever": params.names[i],
                            "lever_value": float(best[j])})
    for row, cap in caps:
        key = f"capacity_{row.get('technology')}_mw"
        if key in series:
            at = np.flatnonzero(series[key][0] >= cap * (1 - 1e-9))
            if len(at):
                reached.append({**_potential_row(row), "kind": "capacity", "series": key, "year": years[int(at[0])]})
    # why each target not met at the answer stays out of reach
    met_b, _ = problem.evaluate(best)
    why: dict[str, dict] = {}
    unc = np.array([i for i, k in enumerate(params.kind) if k == "uncertain"], dtype=np.intp)
    m = len(idx)
    probe = np.tile(s, (2 * m, 1))
    probe[np.arange(m), np.arange(m)] = lo
    probe[m + np.arange(m), np.arange(m)] = hi
    _, probe_margin = problem.evaluate(probe)
    for j, target in enumerate(problem.targets):
        if met_b[0, j]:
            continue
        _, cand_margin = problem.evaluate(np.vstack([ambitious, corners[j], best]))
        k = int(np.argmax(cand_margin[:, j]))
        point = (ambitious, corners[j], best)[k]
        margin_best = float(cand_margin[k, j])
        gain = np.maximum(probe_margin[m:, j], probe_margin[:m, j]) - np.minimum(probe_margin[m:, j],
                                                                                   probe_margin[:m, j])
        lever_rows = []
        for q in np.argsort(-gain):
            if gain[q] <= 0:
                break
            helps_high = probe_margin[m + q, j] > probe_margin[q, j]
            end = hi[q] if helps_high else lo[q]
            if abs(point[q] - end) > 1e-9 * max(abs(end), 1.0):
                continue
            name = params.names[idx[q]]
            row = by_lever.get(name)
            lever_rows.append({"id": name, **names.get(name, {"name_zh": name, "name_en": name}),
                               "value": float(end), "unit": params.unit[idx[q]], "end": "max" if helps_high else "min",
                               "gain": float(gain[q]), "potential": _potential_row(row) if row is not None else None})
        spec = specs.get(target, {})
        year = spec.get("year")
        x_point = problem.full(point[None, :])[0]
        central = model.evaluate(x_point[None, :])
        cseries = getattr(central, "series", {}) or {}
        capped = []
        if year in years:
            i = years.index(int(year))
            for row, cap in caps:
                key = f"capacity_{row.get('technology')}_mw"
                if key in cseries and cseries[key][0, i] >= cap * (1 - 1e-9):
                    capped.append({**_potential_row(row), "series": key, "year": int(year),
                                   "value_mw": float(cseries[key][0, i])})
        decide: list[dict[str, Any]] = []
        if len(unc):
            X = np.tile(x_point, (2 * len(unc), 1))
            X[np.arange(len(unc)), unc] = params.low[unc]
            X[len(unc) + np.arange(len(unc)), unc] = params.high[unc]
            base_margin = float(np.asarray(central.targets()[target][1])[0])
            res = np.asarray(model.evaluate(X).targets()[target][1], dtype=float)
            m_low, m_high = res[:len(unc)], res[len(unc):]
            fav = np.maximum(m_low, m_high)
            tol = 1e-6 * max(abs(base_margin), 1e-9)
            for q in np.argsort(-fav):
                if fav[q] - base_margin <= tol or len(decide) >= 3:
                    break
                i = unc[q]
                end = params.high[i] if m_high[q] >= m_low[q] else params.low[i]
                needed: float | None = None
                if fav[q] >= 0:  # bisection between the value used and the favourable end
                    a, b = float(x_point[i]), float(end)
                    for _ in range(40):
                        mid = 0.5 * (a + b)
                        xm = x_point.copy()
                        xm[i] = mid
                        ok = bool(model.evaluate(xm[None, :]).targets()[target][0][0])
                        a, b = (a, mid) if ok else (mid, b)
                    needed = b
                name = params.names[i]
                decide.append({"id": name, **names.get(name, {"name_zh": name, "name_en": name}),
                               "unit": params.unit[i], "value": float(x_point[i]), "low": float(params.low[i]),
                               "high": float(params.high[i]), "end": float(end), "margin_at_end": float(fav[q]),
                               "needed": needed})
        title = info.get(target, {})
        unit = title.get("unit", "")
        short = -margin_best
        zh = [f"{title.get('title_zh') or target}：措施取最有利设置时仍差 {_fmt(short, unit, True)}。"]
        en = [f"{title.get('title_en') or target}: misses it by {_fmt(short, unit, True)} even at the most favourable "
              "lever settings."]
        bounded = [lv for lv in lever_rows if lv["potential"] is not None]
        if bounded:
            zh.append("已到上限的措施（可开发量）：" + "；".join(
                f"{lv['name_zh']} {_fmt(lv['value'], lv['unit'])}（{lv['potential']['name_zh']} "
                f"{_fmt(lv['potential']['value'], lv['potential']['unit'])}）" for lv in bounded[:5]) + "。")
            en.append("Levers at their maximum (potential): " + "; ".join(
                f"{lv['name_en']} {_fmt(lv['value'], lv['unit'])} ({lv['potential']['name_en']} "
                f"{_fmt(lv['potential']['value'], lv['potential']['unit'])})" for lv in bounded[:5]) + ".")
        elif lever_rows:
            zh.append("已到范围端点的措施：" + "、".join(lv["name_zh"] for lv in lever_rows[:4]) + "。")
            en.append("Levers at the end of their range: " + ", ".join(lv["name_en"] for lv in lever_rows[:4]) + ".")
        if capped:
            zh.append(f"{year}年装机已达可开发量：" + "；".join(
                f"{c['name_zh']} {_fmt(c['value'], c['unit'])}" for c in capped) + "。")
            en.append(f"Capacity capped by its potential in {year}: " + "; ".join(
                f"{c['name_en']} {_fmt(c['value'], c['unit'])}" for c in capped) + ".")
        if decide:
            zh.append("取决于城市措施以外的参数：" + "；".join(
                f"{d['name_zh']}需达到 {_fmt(d['needed'], d['unit'])}（现取 {_fmt(d['value'], d['unit'])}，范围 "
                f"{_fmt(d['low'], d['unit'])}–{_fmt(d['high'], d['unit'])}）" if d["needed"] is not None else
                f"{d['name_zh']}即使取 {_fmt(d['end'], d['unit'])} 仍差 {_fmt(-d['margin_at_end'], unit, True)}"
                for d in decide) + "。")
            en.append("Decided by parameters outside the city's levers: " + "; ".join(
                f"{d['name_en']} would need {_fmt(d['needed'], d['unit'])} (used {_fmt(d['value'], d['unit'])}, "
                f"range {_fmt(d['low'], d['unit'])}-{_fmt(d['high'], d['unit'])})" if d["needed"] is not None else
                f"{d['name_en']} at {_fmt(d['end'], d['unit'])} still misses it by "
                f"{_fmt(-d['margin_at_end'], unit, True)}"
                for d in decide) + ".")
        why[target] = {"margin_at_best": margin_best, "reachable": bool(active[j]), "levers": lever_rows[:8],
                       "capacity": capped, "parameters": decide, "text_zh": "".join(zh).replace(" pp", " 个百分点"),
                       "text_en": " ".join(en)}
    return {"cost": cost, "why": why, "binding_potentials": reached}


def why_not(model: PathwayModel, scenario: Any, *, exclude_groups: Sequence[str] = ("baseline",),
            potentials: Sequence[Mapping[str, Any]] | None = None) -> dict[str, dict]:
    """Why each plan target the scenario misses on its central run stays missed: the ``why`` of :func:`seek`
    (levers at the end of their range with their potential, capped capacity, the uncertain parameters that
    decide it) without a search — for a page that shows a scenario (a few hundred runs)."""
    params = parameter_arrays(model)
    p = len(params.names)
    x_s = np.asarray(model.vector(scenario), dtype=float).reshape(p)
    idx = np.array([i for i in range(p) if params.kind[i] == "lever" and params.direction[i] != 0
                    and params.group[i] not in exclude_groups and params.span[i] > 0], dtype=np.intp)
    lo, hi = params.low[idx], params.high[idx]
    s = np.clip(x_s[idx], lo, hi)
    direction = np.sign(params.direction[idx])
    ambitious = np.where(direction > 0, hi, np.where(direction < 0, lo, s))
    problem = _Problem(model, x_s, idx, "all", None, 1, 0, DEFAULT_CHUNK)
    corners = _target_corners(problem, s, lo, hi)
    met_s, _ = problem.evaluate(s)
    met_a, margin_a = problem.evaluate(ambitious)
    met_c, margin_c = problem.evaluate(corners)
    own = np.arange(len(problem.targets))
    active = met_s[0] | met_a[0] | met_c[own, own]
    best_margin = np.maximum(margin_a[0], margin_c[own, own])
    return _explain(model, params, problem, idx, s, s, lo, hi, corners, active, best_margin, margin_a[0], ambitious,
                    potentials)["why"]
