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
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
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

__all__ = ["SeekResult", "seek"]

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
                "provenance": self.provenance.to_dict() if self.provenance else None}

    def rows(self) -> list[dict]:
        return [{"措施 / lever": lv["name"], "组 / group": lv["group"], "方案值 / scenario": lv["scenario"],
                 "建议值 / sought": lv["value"], "变化 / change": lv["change"], "单位 / unit": lv["unit"]}
                for lv in self.levers]


class _Problem:
    """Evaluation of candidate lever vectors: every target's met flag and margin (central or probability)."""

    def __init__(self, model: PathwayModel, x_s: np.ndarray, lever_idx: np.ndarray, targets: Sequence[str] | str,
                 probability: float | None, runs: int, seed: int, chunk: int, fixed: frozenset[str] = frozenset()):
        self.model, self.x_s, self.idx, self.probability, self.chunk = model, x_s, lever_idx, probability, chunk
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
            out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            for start in range(0, len(X), self.chunk):
                part = self.model.evaluate(X[start:start + self.chunk]).targets()
                for key, (met, margin) in part.items():
                    prev = out.get(key)
                    met, margin = np.asarray(met, dtype=bool), np.asarray(margin, dtype=float)
                    out[key] = (met, margin) if prev is None else (np.concatenate([prev[0], met]),
                                                                   np.concatenate([prev[1], margin]))
            return out
        runs = len(self.draws)
        met_share: dict[str, list[np.ndarray]] = {}
        per = max(1, self.chunk // runs)
        for start in range(0, len(X), per):
            block = X[start:start + per]
            big = np.repeat(self.draws[None, :, :], len(block), axis=0)
            big[:, :, self.idx] = block[:, None, self.idx]
            res = self.model.evaluate(big.reshape(-1, big.shape[2])).targets()
            for key, (met, _) in res.items():
                met_share.setdefault(key, []).append(np.asarray(met, dtype=bool).reshape(len(block), runs).mean(1))
        p = float(self.probability)  # type: ignore[arg-type]
        return {key: (np.concatenate(v) >= p, np.concatenate(v) - p) for key, v in met_share.items()}

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
         progress: Progress | None = None) -> SeekResult:
    """Lever settings meeting ``targets`` closest to ``scenario`` (see the module docstring for the method).

    ``progress`` (:mod:`citycarbon.progress`) is told the steps done out of :data:`SEEK_STEPS`: the corners,
    the rays, each polished start, the final check (steps not needed are skipped over)."""
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
    ambitious = np.where(direction > 0, hi, np.where(direction < 0, lo, s))
    problem = _Problem(model, x_s, idx, targets, None if probability is None else float(probability), int(runs),
                       int(seed), chunk, frozenset(getattr(scenario, "parameters", None) or ()))

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
    if met_s[active].all():
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
    provenance = Provenance("Goal-seek: closest lever settings meeting the plan targets (rays + SLSQP)",
                            METHOD_VERSION, standards=list(STANDARDS),
                            parameters={"scenario": name, "code": code, "seed": int(seed), "targets": problem.targets,
                                        "probability": probability, "runs": int(runs) if probability else None,
                                        "cost": dict(cost) if cost else None, "starts": int(starts),
                                        "levers": [params.names[i] for i in idx], **model_provenance(model)})
    return SeekResult(scenario=name, code=code, feasible=not infeasible and bool(met_b[0].all()),
                      levers=lever_rows, distance=float(distance(best)[0]), targets=target_rows,
                      infeasible=infeasible, probability=None if probability is None else float(probability),
                      runs=int(runs) if probability is not None else None, seed=int(seed),
                      evaluations=problem.evaluations, notes=notes, provenance=provenance)


def _slsqp(problem: _Problem, z0: np.ndarray, s: np.ndarray, span: np.ndarray, weight: np.ndarray, lo: np.ndarray,
           hi: np.ndarray, active: np.ndarray, scale: np.ndarray) -> np.ndarray | None:
    """SLSQP from ``z0`` in normalised coordinates; forward-difference gradients in one call per iterate."""
    n = len(z0)
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

    with np.errstate(all="ignore"), warnings.catch_warnings():
        # SLSQP may step outside the bounds and clip; the answer is clipped and checked for feasibility below
        warnings.filterwarnings("ignore", message="Values in x were outside bounds", category=RuntimeWarning)
        result = minimize(objective, (z0 - lo) / span, jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * n,
                          constraints=[{"type": "ineq", "fun": lambda y: margins_and_jacobian(y)[0],
                                        "jac": lambda y: margins_and_jacobian(y)[1]}],
                          options={"maxiter": 100, "ftol": 1e-10})
    y = np.clip(result.x, 0.0, 1.0)
    if not np.all(np.isfinite(y)):
        return None
    return lo + y * span
