"""Data quality of meter readings: rules as data, flags and repairs beside the raw values, national indicators.

Input
-----
Either the ingest contract's readings (``point_id, start, end, value, unit[, received_at]``; cumulative
registers as instantaneous reads ``start == end``) or the lake's frame (``value_raw, unit_raw, energy,
revision, received_at`` …, cumulative reads differenced with ``start`` = previous read). Raw values are never
modified: every finding is a row of the flags frame

    ``point_id, start, end, rule_id, fault_kind, severity, detail, suggested_value, suggested_unit, method``

where ``suggested_value`` is the repaired interval energy in the energy type's canonical unit (after multiplier,
``suggested_unit``), with the repair ``method`` (``interpolation``, ``scale_1000``, ``rollover_correction``,
``spread_register_delta``); empty when no repair is proposed. Rules, severities and parameters live in
``data/monitoring/quality_rules.yaml`` (sources: methods.md §5 or estimate).

The checks are vectorised per point (pandas groupby, numpy); a reading is judged on its latest revision.
Times: UTC inside; local days for the national indicators use the registry's time zone (Asia/Shanghai).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem
from citycarbon.monitoring.registry import Registry, energy_types, load_registry, tce_factors
from citycarbon.provenance import Provenance, hash_frame
from citycarbon.units import UnitError, conversion_factor

__all__ = [
    "FLAG_COLUMNS",
    "QualityRules",
    "check",
    "daily_energy",
    "load_rules",
    "national_indicators",
    "prepare",
    "provenance",
    "repairs",
    "score",
]

FLAG_COLUMNS: tuple[str, ...] = ("point_id", "start", "end", "rule_id", "fault_kind", "severity", "detail",
                                 "suggested_value", "suggested_unit", "method")
SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class QualityRules:
    """The rules file, parsed: ``rules`` id → rule dict; ``national`` name → value."""

    rules: dict[str, dict]
    national: dict[str, float]
    source: str

    def param(self, rule_id: str, name: str) -> float:
        return self.rules[rule_id]["parameters"][name]

    def table(self) -> pd.DataFrame:
        """One row per rule (for docs and the CLI)."""
        return pd.DataFrame([{"id": r["id"], "fault_kind": r["fault_kind"], "name_zh": r["name_zh"],
                              "name_en": r["name_en"], "severity": r["severity"], "applies_to": r["applies_to"],
                              "parameters": ", ".join(f"{k}={v}" for k, v in r["parameters"].items()),
                              "status": r["status"], "source": r["source"]} for r in self.rules.values()])


def _parse_rules(text: str, file: str) -> QualityRules:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputError(Problem(f"not valid YAML: {error}", file=file)) from error
    rules = {}
    for i, rule in enumerate(data.get("rules") or [], start=1):
        for key in ("id", "fault_kind", "severity", "applies_to", "parameters", "source", "status"):
            if key not in rule:
                raise InputError(Problem(f"rule {i} lacks {key!r}", file=file, row=i, field=key))
        if rule["severity"] not in SEVERITIES:
            raise InputError(Problem(f"severity must be one of {SEVERITIES}", file=file, row=i, field="severity",
                                     value=rule["severity"]))
        rules[rule["id"]] = rule
    national = {k: float(v["value"]) for k, v in (data.get("national") or {}).items()}
    return QualityRules(rules, national, file)


@cache
def _shipped_rules() -> QualityRules:
    path = data_path("monitoring/quality_rules.yaml")
    return _parse_rules(path.read_text(encoding="utf-8"), path.name)


def load_rules(path: str | Path | None = None) -> QualityRules:
    """The shipped rules, or an office's own file with the same structure (a province's variant)."""
    if path is None:
        return _shipped_rules()
    path = Path(path)
    return _parse_rules(path.read_text(encoding="utf-8"), path.name)


def provenance(rules: QualityRules | None = None, readings: pd.DataFrame | None = None) -> Provenance:
    """What a quality result was computed with: the rules (file and which parameters are estimates), the tce
    factor rows of the energy types, the standards, and the readings' content hash when given."""
    rules = rules or load_rules()
    factors = tce_factors()
    used = [{"factor_id": r.factor_id, "energy_type": r.energy_type, "tce_per_unit": r.tce_per_unit,
             "unit": f"tce/{r.canonical_unit}", "status": r.factor_status}
            for r in factors.itertuples(index=False) if r.factor_id]
    return Provenance(
        method="citycarbon.monitoring.quality", method_version="1",
        standards=["methods.md §5 (national online-monitoring data quality: completeness ≥ 90 %, daily vs monthly"
                   " ≤ 5 %, timestamps ±1 min / ±1 day, repair within 3 working days)",
                   "GB/T 2589-2020 (tce at 当量值)"],
        inputs={"readings": hash_frame(readings)} if readings is not None and len(readings) <= 200_000 else {},
        factors=used,
        parameters={"rules_file": rules.source, "national": rules.national,
                    "rules": {k: v["parameters"] for k, v in rules.rules.items()}},
        estimates=sorted(f"quality_rules.yaml: {k}" for k, v in rules.rules.items() if v["status"] == "estimate"))


# ------------------------------------------------------------------------------------------------ preparing

def _utc(series: pd.Series) -> pd.Series:
    out = pd.to_datetime(series, utc=True)
    return out.dt.as_unit("ns") if hasattr(out.dt, "as_unit") else out


def prepare(readings: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """All rows (every revision) with point attributes, canonical energy and the grid slot.

    Adds ``kind, energy_type, multiplier, interval_minutes, register_max, parent_point_id, enterprise_id,
    value_raw, unit_raw, ts`` (the read time: ``start`` for interval meters, ``end`` for registers),
    ``revision`` (by receipt order where absent), ``factor`` (raw unit → canonical unit × multiplier).
    Rows of unknown points raise :class:`InputError` naming the first few.
    """
    frame = readings.reset_index(drop=True)
    # only the columns the rules read (the lake's frame also carries batch ids and its own energy: copying those
    # through every subset and sort costs more than the checks)
    frame = frame[[c for c in frame.columns if c in _INPUT_COLUMNS]]
    if "value_raw" not in frame.columns:
        frame = frame.rename(columns={"value": "value_raw"})
    if "unit_raw" not in frame.columns:
        frame = frame.rename(columns={"unit": "unit_raw"})
    for column in ("start", "end", "received_at"):
        if column in frame.columns:
            frame[column] = _utc(frame[column])
    if "received_at" not in frame.columns:
        frame["received_at"] = pd.NaT
        frame["received_at"] = _utc(frame["received_at"])
    # categoricals (sorted categories, observed values only): subsets and groupbys then move integer codes
    # instead of strings, and the point attributes are taken by code instead of joined row by row
    frame["point_id"] = _category(frame["point_id"])
    frame["unit_raw"] = _category(frame["unit_raw"])
    points = registry.points.set_index("point_id")
    ids = pd.Index(frame["point_id"].cat.categories)
    unknown = sorted(set(ids) - set(points.index))
    if unknown:
        raise InputError(Problem(f"readings of points not in the registry: {', '.join(unknown[:5])}",
                                 field="point_id", value=unknown[0]))
    codes = frame["point_id"].cat.codes.to_numpy(np.int64)
    attributes = points.reindex(ids)
    frame = frame.drop(columns=[c for c in ("enterprise_id", "energy_type", "kind", "multiplier", "interval_minutes",
                                            "register_max", "parent_point_id", "point_unit") if c in frame.columns])
    for column in ("enterprise_id", "energy_type", "kind", "parent_point_id"):
        small = pd.Categorical(attributes[column].astype(str).to_numpy(object))
        frame[column] = pd.Categorical.from_codes(small.codes[codes], categories=small.categories)
    for column in ("multiplier", "interval_minutes", "register_max"):
        frame[column] = attributes[column].to_numpy()[codes]
    small = pd.Categorical(attributes["unit"].astype(str).to_numpy(object))
    frame["point_unit"] = pd.Categorical.from_codes(small.codes[codes], categories=small.categories)
    canonical = attributes["energy_type"].map(energy_types()["canonical_unit"]).astype(str)
    small = pd.Categorical(canonical.to_numpy(object))
    frame["canonical_unit"] = pd.Categorical.from_codes(small.codes[codes], categories=small.categories)
    # unit factor per (point, raw unit) pair: few pairs, looked up once each
    unit_codes = frame["unit_raw"].cat.codes.to_numpy(np.int64)
    units = frame["unit_raw"].cat.categories
    pair = codes * max(len(units), 1) + unit_codes
    uniques, inverse = np.unique(pair, return_inverse=True)
    factors = np.array([_factor_or_nan(str(units[u % max(len(units), 1)]), str(canonical.iloc[u // max(len(units), 1)]))
                        for u in uniques], dtype=float)
    factor = factors[inverse.reshape(-1)] if len(factors) else np.zeros(len(frame))
    factor[unit_codes < 0] = math.nan  # a missing unit converts to nothing
    frame["factor"] = factor * frame["multiplier"].to_numpy(float)
    cumulative = frame["kind"].eq("cumulative").to_numpy()
    frame["ts"] = frame["start"].where(~cumulative, frame["end"])
    if "revision" not in frame.columns:
        order = frame.sort_values(["point_id", "ts", "received_at"], kind="stable")
        frame["revision"] = order.groupby(["point_id", "ts"], sort=False).cumcount().reindex(frame.index)
    if _in_order(frame):  # the lake returns its rows in this order already: no copy of every column
        return frame.reset_index(drop=True)
    return frame.sort_values(["point_id", "ts", "revision"], kind="stable").reset_index(drop=True)


def _in_order(frame: pd.DataFrame) -> bool:
    """Whether rows are already sorted by point (category order), read time and revision."""
    if len(frame) < 2:
        return True
    c = frame["point_id"].cat.codes.to_numpy(np.int64)
    t = frame["ts"].astype("int64").to_numpy()
    r = frame["revision"].to_numpy()
    same_c, same_t = c[1:] == c[:-1], t[1:] == t[:-1]
    return bool(np.all((c[1:] > c[:-1]) | (same_c & ((t[1:] > t[:-1]) | (same_t & (r[1:] >= r[:-1]))))))


#: input columns :func:`prepare` keeps (the contract's and the lake's names)
_INPUT_COLUMNS = frozenset({"point_id", "start", "end", "value", "unit", "value_raw", "unit_raw", "received_at",
                            "revision"})


def _category(series: pd.Series) -> pd.Series:
    """``series`` as a categorical of strings with sorted categories and no unused ones."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        out = series.cat.remove_unused_categories()
        if not all(isinstance(c, str) for c in out.cat.categories):
            out = out.astype(str).astype("category")
        elif not out.cat.categories.is_monotonic_increasing:
            out = out.cat.reorder_categories(sorted(out.cat.categories))
        return out
    return series.astype(str).astype("category")


def _factor_or_nan(unit: str, target: str) -> float:
    try:
        return conversion_factor(unit, target)
    except UnitError:
        return math.nan


def _latest(prepared: pd.DataFrame) -> pd.DataFrame:
    """One row per (point, read time): the highest revision."""
    if prepared.empty:
        return prepared.reset_index(drop=True)
    # prepared rows are sorted by point, read time and revision: the last row of each (point, ts) run
    codes = _codes(prepared["point_id"])
    ts = prepared["ts"].astype("int64").to_numpy()
    last = np.ones(len(prepared), bool)
    last[:-1] = (codes[1:] != codes[:-1]) | (ts[1:] != ts[:-1])
    return prepared[last].reset_index(drop=True)


def _flags(frame: pd.DataFrame, rule: dict, detail: object, suggested: object = math.nan,
           method: str = "") -> pd.DataFrame:
    out = pd.DataFrame({"point_id": frame["point_id"].to_numpy(), "start": frame["start"].to_numpy(),
                        "end": frame["end"].to_numpy()})
    out["start"] = _utc(out["start"])
    out["end"] = _utc(out["end"])
    out["rule_id"] = rule["id"]
    out["fault_kind"] = rule["fault_kind"]
    out["severity"] = rule["severity"]
    if callable(detail):
        detail = detail(frame)
    out["detail"] = detail if not isinstance(detail, pd.Series) else detail.to_numpy()
    out["suggested_value"] = suggested if not isinstance(suggested, pd.Series) else suggested.to_numpy(float)
    out["suggested_unit"] = frame["canonical_unit"].to_numpy() if len(frame) else []
    out["method"] = method
    return out


def _interp_grouped(points: np.ndarray, x: np.ndarray, y: np.ndarray, good: np.ndarray, target_points: np.ndarray,
                    target_x: np.ndarray) -> np.ndarray:
    """``np.interp(target_x, x[good], y[good])`` within each point, for all points at once (no loop).

    ``points``/``target_points``: integer point codes. Same arithmetic as ``np.interp``: linear between the
    last good value at or before the target and the first good value after it, the nearest good value beyond
    either end, NaN for a point without any good value.
    """
    gp, gx, gy = points[good], x[good], y[good]
    n, m = gp.size, target_points.size
    out = np.full(m, np.nan)
    if n == 0 or m == 0:
        return out
    all_p = np.concatenate([gp, target_points])
    all_x = np.concatenate([gx, target_x])
    is_target = np.concatenate([np.zeros(n, bool), np.ones(m, bool)])  # a good value at the same x comes first
    order = np.lexsort((is_target, all_x, all_p))
    sp, st = all_p[order], is_target[order]
    position = np.arange(order.size)
    prev = np.maximum.accumulate(np.where(~st, position, -1))
    following = np.minimum.accumulate(np.where(~st, position, order.size)[::-1])[::-1]
    # ``following`` at a target is the next good value strictly after it (good values at the same x sort first)
    where = np.flatnonzero(st)
    target_index = order[where] - n
    p_pos, n_pos = prev[where], following[where]
    has_p = (p_pos >= 0) & (sp[np.clip(p_pos, 0, None)] == sp[where])
    has_n = (n_pos < order.size) & (sp[np.clip(n_pos, None, order.size - 1)] == sp[where])
    xp = gx[order[np.clip(p_pos, 0, None)] % n] if n else gx
    yp = gy[order[np.clip(p_pos, 0, None)] % n]
    xn = gx[order[np.clip(n_pos, None, order.size - 1)] % n]
    yn = gy[order[np.clip(n_pos, None, order.size - 1)] % n]
    tx = target_x[target_index]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (yn - yp) / (xn - xp)
        between = slope * (tx - xp) + yp
    value = np.where(has_p & has_n, between, np.where(has_p, yp, np.where(has_n, yn, np.nan)))
    # a target exactly on a good value takes it (np.interp does the same)
    value = np.where(has_p & (tx == xp), yp, value)
    out[target_index] = value
    return out


def _codes(series: pd.Series) -> np.ndarray:
    """Integer codes of a point id column (categorical codes when it is one)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64)
    return pd.factorize(series)[0].astype(np.int64)


def _recode(series: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value of ``series`` in ``index`` (−1 when absent), by category for categoricals."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        per_category = index.get_indexer(pd.Index(series.cat.categories.astype(str)))
        codes = series.cat.codes.to_numpy(np.int64)
        return np.where(codes >= 0, per_category[codes], -1).astype(np.int64)
    return index.get_indexer(series.astype(str)).astype(np.int64)


def _interpolate(energy: pd.Series, bad: pd.Series, frame: pd.DataFrame) -> pd.Series:
    """Linear interpolation in time of ``energy`` over the ``bad`` rows, per point (vectorised)."""
    codes = _codes(frame["point_id"])
    x = frame["ts"].astype("int64").to_numpy(float)
    y = energy.to_numpy(float)
    good = ~bad.to_numpy(bool) & ~np.isnan(y)
    n = x.size
    ordered = n < 2 or bool(np.all((codes[1:] > codes[:-1]) | ((codes[1:] == codes[:-1]) & (x[1:] > x[:-1]))))
    if not ordered:
        return pd.Series(_interp_grouped(codes, x, y, good, codes, x), index=frame.index)
    # rows already in (point, time) order: previous and next good row by running max/min, no sort
    position = np.arange(n)
    prev = np.maximum.accumulate(np.where(good, position, -1))
    following = np.minimum.accumulate(np.where(good, position, n)[::-1])[::-1]
    p, q = np.clip(prev, 0, None), np.clip(following, None, n - 1)
    has_p = (prev >= 0) & (codes[p] == codes)
    has_n = (following < n) & (codes[q] == codes)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (y[q] - y[p]) / (x[q] - x[p]) * (x - x[p]) + y[p]
    value = np.where(has_p & has_n, between, np.where(has_p, y[p], np.where(has_n, y[q], np.nan)))
    value = np.where(good, y, value)
    return pd.Series(value, index=frame.index)


# --------------------------------------------------------------------------------------------------- checks

def _unit_state(energy: pd.Series, groups: pd.Series, rules: QualityRules) -> pd.Series:
    """Per reading, how many factors of 1000 it is off its point's local level (0 for most readings).

    Rows are in (point, time) order. A jump of at least 10^(3 - tolerance) between consecutive positive readings of
    a point is an edge: it may open or close a run sent in the wrong unit (kWh as MWh, t as kg). The edges cut each
    point's readings into segments; a segment is in the wrong unit when its median sits 10^(3k) (rounded) off the
    local level, the centred rolling median of log10(energy) over ``reference_window`` readings (more than twice the
    longest run it should find, so that the run does not move it). Each reading of such a segment that is itself
    10^(3k) off the local level gets state k. A missed edge (a run starting on a spike, a gap or a load change)
    therefore costs at most that one run, instead of shifting the point for the rest of the period; natural changes
    between neighbouring intervals stay far below a factor of 500, and a low-load stretch without a x1000 edge is
    never a unit mistake. At most ``max_steps`` factors of 1000 (kilo, mega): a value farther off is not a unit
    prefix (the impossible-value rule sees it).
    """
    jump, tolerance = rules.param("unit_mistake", "log10_jump"), rules.param("unit_mistake", "log10_tolerance")
    window = int(rules.param("unit_mistake", "reference_window"))
    positive = (energy > 0).to_numpy()
    out = np.zeros(len(energy), dtype=np.int64)
    if positive.any():
        logs = np.log10(energy.to_numpy(float)[positive])
        codes = _codes(groups)[positive]
        n = logs.size
        same_point = codes[1:] == codes[:-1]
        step = np.abs(np.diff(logs))
        first = np.ones(n, dtype=bool)
        first[1:] = ~same_point | (step >= jump - tolerance)  # a larger jump cuts too: harmless, as each
        # segment is judged by its level, and a run that starts on a spike still gets its edge
        segment = np.cumsum(first) - 1
        deviation = logs - _rolling_median_by_point(logs, codes, window, min_periods=1)
        level = pd.Series(deviation).groupby(segment).transform("median").to_numpy()
        k_segment = np.rint(level / jump)
        k_reading = np.rint(deviation / jump)
        steps = rules.param("unit_mistake", "max_steps")  # kilo and mega; farther off is not a unit prefix
        unit = (k_segment != 0) & (k_reading == k_segment) & (np.abs(k_segment) <= steps)
        out[positive] = np.where(unit, k_segment, 0).astype(np.int64)
    return pd.Series(out, index=energy.index)


def _rolling_median_by_point(values: np.ndarray, codes: np.ndarray, window: int, min_periods: int = 3) -> np.ndarray:
    """Centred rolling median of ``values`` within each point (rows sorted by point), all points in one pass.

    Each point's rows are surrounded by ``window // 2`` empty (NaN) rows, so a window at a point's edge sees the
    empty rows instead of the next point's values: the same truncated window as a per-point rolling median
    (NaN is not counted), without a group-by.
    """
    n = values.size
    if n == 0:
        return values.copy()
    half = window // 2
    first = np.ones(n, bool)
    first[1:] = codes[1:] != codes[:-1]
    ordinal = np.cumsum(first) - 1
    position = np.arange(n) + half * (2 * ordinal + 1)
    padded = np.full(n + 2 * half * (int(ordinal[-1]) + 1), np.nan)
    padded[position] = values
    medians = pd.Series(padded).rolling(window, center=True, min_periods=min_periods).median().to_numpy()
    return medians[position]


def _interval_checks(cur: pd.DataFrame, rules: QualityRules) -> list[pd.DataFrame]:
    """Negative, unit mistake, impossible, spike and stuck on interval meters (latest revisions)."""
    out = []
    frame = cur[cur["kind"] == "interval"]
    if frame.empty:
        return out
    energy = frame["value_raw"] * frame["factor"]
    groups = frame["point_id"]
    negative = energy < 0
    positive = energy.where(energy > 0)
    median = positive.groupby(groups).transform("median")
    state = _unit_state(energy, groups, rules)
    unit_up, unit_down = state > 0, state < 0
    unit = unit_up | unit_down
    clean = energy.where(~negative & ~unit)
    p99 = clean.groupby(groups).transform("quantile", 0.99)
    impossible = (clean > rules.param("impossible_value", "p99_multiple") * p99) & ~unit & ~negative
    window = int(rules.param("spike", "window"))
    base = clean.where(~impossible)
    neighbourhood = pd.Series(_rolling_median_by_point(base.to_numpy(float), _codes(groups), window),
                              index=frame.index)
    deviation = (base - neighbourhood).abs()
    scale = (1.4826 * deviation.groupby(groups).transform("median")).clip(
        lower=rules.param("spike", "scale_floor") * median)
    z = (base - neighbourhood) / scale
    spike = (base > rules.param("spike", "ratio") * neighbourhood) & (z > rules.param("spike", "z_score"))
    # stuck: identical non-zero raw values repeated
    same = (frame["value_raw"] == frame.groupby(groups)["value_raw"].shift(1)) & (frame["value_raw"] != 0)
    same &= frame["point_id"].eq(frame["point_id"].shift(1))
    run_id = (~same).cumsum()
    run_length = same.groupby(run_id).transform("sum")
    stuck = same & (run_length >= rules.param("stuck_meter", "min_run")) & ~unit & ~negative
    value_bad = negative | unit | impossible | spike | stuck
    repaired = _interpolate(energy, value_bad, frame)
    r = rules.rules
    jump = 10.0 ** rules.param("unit_mistake", "log10_jump")
    unit_fix = energy * np.power(jump, -state.to_numpy(float))

    def text(series: pd.Series, digits: int = 4) -> pd.Series:
        return series.round(digits).astype(str)

    multiple = str(rules.param("impossible_value", "p99_multiple"))
    for mask, rule, detail, suggestion, method in (
        (negative, r["negative_value"], lambda m: "negative value " + text(energy[m]), repaired, "interpolation"),
        (unit, r["unit_mistake"], lambda m: "inside a run scaled by 1000^" + state[m].astype(int).astype(str)
         + " against the point's usual level", unit_fix, "scale_1000"),
        (impossible, r["impossible_value"], lambda m: "value " + text(energy[m]) + " > " + multiple + " × p99 "
         + text(p99[m]), repaired, "interpolation"),
        (spike, r["spike"], lambda m: "value / neighbourhood median = " + text(base[m] / neighbourhood[m], 2)
         + ", z = " + text(z[m], 1), repaired, "interpolation"),
        (stuck, r["stuck_meter"], lambda m: "value repeated " + run_length[m].astype(int).astype(str) + " times",
         repaired, "interpolation"),
    ):
        if mask.any():
            out.append(_flags(frame[mask], rule, detail(mask), suggestion[mask], method))
    return out


def _register_deltas(frame: pd.DataFrame, rules: QualityRules) -> dict[str, pd.Series]:
    """Raw register differences of cumulative points (rows ordered by point and read time): ``delta``,
    ``previous``, ``wrapped`` (delta + register_max), ``rollover`` and ``reset`` masks, ``corrected`` delta
    (rollover-corrected, NaN after a reset) and ``positive`` deltas."""
    groups = frame["point_id"]
    previous = frame.groupby(groups)["value_raw"].shift(1)
    delta = frame["value_raw"] - previous
    positive = delta.where(delta > 0)
    p99 = positive.groupby(groups).transform("quantile", 0.99)
    wrapped = delta + frame["register_max"]
    decrease = delta < 0
    plausible = frame["register_max"].notna() & (wrapped <= rules.param("counter_reset", "rollover_p99_multiple")
                                                 * p99)
    rollover, reset = decrease & plausible, decrease & ~plausible
    corrected = delta.where(~decrease, wrapped.where(rollover))
    return {"delta": delta, "previous": previous, "wrapped": wrapped, "rollover": rollover, "reset": reset,
            "corrected": corrected, "positive": positive}


def _cumulative_checks(cur: pd.DataFrame, rules: QualityRules) -> list[pd.DataFrame]:
    """Counter reset, rollover and stuck registers (latest revisions, ordered by read time)."""
    out = []
    frame = cur[cur["kind"] == "cumulative"]
    if frame.empty:
        return out
    groups = frame["point_id"]
    d = _register_deltas(frame, rules)
    delta, previous, wrapped, positive = d["delta"], d["previous"], d["wrapped"], d["positive"]
    rollover, reset = d["rollover"], d["reset"]
    same = (delta == 0) & frame["value_raw"].ne(0)
    run_id = (~same).cumsum()
    run_length = same.groupby(run_id).transform("sum")
    stuck = same & (run_length >= rules.param("stuck_meter", "min_run"))
    # the read after a frozen run carries the catch-up: spread it over the run and that read
    delta_energy = delta * frame["factor"]
    typical = positive.groupby(groups).transform("median") * frame["factor"]
    after = ~same & stuck.shift(1, fill_value=False) & groups.eq(groups.shift(1))
    per_read = (delta_energy / (run_length.shift(1) + 1)).where(after)
    spread = per_read.groupby(groups).bfill().where(stuck)
    r = rules.rules
    def change(m: pd.Series) -> pd.Series:
        return "register " + previous[m].round(3).astype(str) + " → " + frame.loc[m, "value_raw"].round(3).astype(str)

    for mask, rule, detail, suggestion, method in (
        (rollover, r["rollover"], change, wrapped * frame["factor"], "rollover_correction"),
        (reset, r["counter_reset"], change, typical, "interpolation"),
        (stuck, r["stuck_meter"], lambda m: "register unchanged " + run_length[m].astype(int).astype(str) + " reads",
         spread, "spread_register_delta"),
    ):
        if mask.any():
            out.append(_flags(frame[mask], rule, detail(mask), suggestion[mask], method))
    return out


def _timestamp_checks(cur: pd.DataFrame, rules: QualityRules, now: pd.Timestamp) -> tuple[list[pd.DataFrame],
                                                                                          pd.Series]:
    """Clock skew and future timestamps; returns the flags and the mask of future rows."""
    out = []
    step = cur["interval_minutes"].astype("int64") * 60 * 1_000_000_000
    ts = cur["ts"].astype("int64")
    offset = ts % step
    off = np.minimum(offset, step - offset) / 1e9
    skew = off > rules.param("clock_skew", "tolerance_seconds")
    future = cur["ts"] > now + pd.Timedelta(seconds=rules.param("future_timestamp", "tolerance_seconds"))
    skew &= ~future  # a future timestamp is its own fault
    r = rules.rules
    if skew.any():
        out.append(_flags(cur[skew], r["clock_skew"], "timestamp " + off[skew].round(0).astype(str)
                          + " s off the grid"))
    if future.any():
        out.append(_flags(cur[future], r["future_timestamp"], "start is " + ((cur.loc[future, "start"] - now)
                          .dt.total_seconds() / 3600).round(1).astype(str) + " h after " + now.isoformat()))
    return out, future


def _gap_checks(cur: pd.DataFrame, registry: Registry, rules: QualityRules, start: pd.Timestamp | None,
                end: pd.Timestamp | None, future: pd.Series) -> list[pd.DataFrame]:
    """Grid slots without a reading (readings snapped to the nearest slot), all points at once.

    Per point the expected slots run from ``lo`` to ``hi`` (the window when ``start`` and ``end`` are given, else
    the point's first and last reading); the missing ones are the holes between consecutive taken slots,
    with ``lo − 1`` and ``hi + 1`` as sentinels, expanded with ``np.repeat`` (no loop over points).
    """
    frame = cur[~future]
    points = registry.points.set_index("point_id")
    window = start is not None and end is not None
    wanted = pd.Index(points.index if window else frame["point_id"].astype(str).unique())
    if wanted.empty:
        return []
    step_of = (points["interval_minutes"].astype("int64") * 60 * 1_000_000_000).reindex(wanted).to_numpy(np.int64)
    cum_of = points["kind"].reindex(wanted).eq("cumulative").to_numpy()
    code_of_row = _recode(frame["point_id"], wanted)
    ts_ns = frame["ts"].astype("int64").to_numpy()
    seen = code_of_row >= 0
    row_code, row_ts = code_of_row[seen], ts_ns[seen]
    row_slot = np.round(row_ts / step_of[row_code]).astype(np.int64)
    if window:
        lo = -(-start.value // step_of) + cum_of.astype(np.int64)  # ceil
        hi = -(-end.value // step_of) - (~cum_of).astype(np.int64)
        has = np.ones(wanted.size, bool)
    else:
        first = np.full(wanted.size, np.iinfo(np.int64).max)
        last = np.full(wanted.size, np.iinfo(np.int64).min)
        np.minimum.at(first, row_code, row_ts)
        np.maximum.at(last, row_code, row_ts)
        has = np.zeros(wanted.size, bool)
        has[row_code] = True
        safe = np.where(has, step_of, 1)
        lo = np.round(np.where(has, first, 0) / safe).astype(np.int64)
        hi = np.round(np.where(has, last, 0) / safe).astype(np.int64)
    has &= hi >= lo
    inside = has[row_code] & (row_slot >= lo[row_code]) & (row_slot <= hi[row_code])
    codes = np.concatenate([row_code[inside], np.flatnonzero(has), np.flatnonzero(has)])
    slots = np.concatenate([row_slot[inside], lo[has] - 1, hi[has] + 1])
    order = np.lexsort((slots, codes))
    codes, slots = codes[order], slots[order]
    keep = np.ones(codes.size, bool)
    keep[1:] = (codes[1:] != codes[:-1]) | (slots[1:] != slots[:-1])
    codes, slots = codes[keep], slots[keep]
    same = codes[1:] == codes[:-1]
    holes = np.flatnonzero(same & (slots[1:] - slots[:-1] > 1))
    if holes.size == 0:
        return []
    run = slots[holes + 1] - slots[holes] - 1
    gap_code = np.repeat(codes[holes], run)
    offset = np.arange(run.sum()) - np.repeat(np.cumsum(run) - run, run)
    slot = np.repeat(slots[holes] + 1, run) + offset
    step = step_of[gap_code]
    gaps = pd.DataFrame({"point_id": wanted.to_numpy(dtype=object)[gap_code], "slot_ns": slot * step, "step": step,
                         "cumulative": cum_of[gap_code]})
    ts = pd.to_datetime(gaps["slot_ns"], unit="ns", utc=True)
    gaps["start"] = ts.where(~gaps["cumulative"], ts - pd.to_timedelta(gaps["step"], unit="ns"))
    gaps["end"] = ts.where(gaps["cumulative"], ts + pd.to_timedelta(gaps["step"], unit="ns"))
    gaps.loc[gaps["cumulative"], "start"] = gaps.loc[gaps["cumulative"], "end"]
    gaps["canonical_unit"] = gaps["point_id"].map(points["energy_type"]).map(energy_types()["canonical_unit"])
    gaps["ts"] = ts
    suggestion = _gap_fill(frame, gaps)
    length = np.repeat(run, run)
    return [_flags(gaps, rules.rules["gap"], "no reading (" + pd.Series(length).astype(str) + " missing in a row)",
                   suggestion, "interpolation")]


def _gap_fill(cur: pd.DataFrame, gaps: pd.DataFrame) -> pd.Series:
    """Interval energy suggested for each missing slot: linear in time between the point's readings
    (interval meters); the register delta of the next read spread over the slots it covers (registers).
    All points at once (sorted merges, no loop over points)."""
    out = np.full(len(gaps), np.nan)
    if cur.empty or gaps.empty:
        return pd.Series(out, index=gaps.index)
    ids = pd.Index(pd.unique(gaps["point_id"].astype(str).to_numpy(object)))
    row_code = _recode(cur["point_id"], ids)  # −1: a point without gaps (never matches a gap's code)
    gap_code = ids.get_indexer(gaps["point_id"].astype(str)).astype(np.int64)
    x = cur["ts"].astype("int64").to_numpy(float)
    value = (cur["value_raw"] * cur["factor"]).to_numpy(float)
    interval = cur["kind"].eq("interval").to_numpy()
    target = gaps["slot_ns"].to_numpy(float)
    gap_interval = ~gaps["cumulative"].to_numpy(bool)
    # interval meters: np.interp over the point's non-negative readings
    if gap_interval.any():
        sel = np.flatnonzero(gap_interval)
        good = interval & (value >= 0)
        out[sel] = _interp_grouped(row_code, x, value, good, gap_code[sel], target[sel])
    # registers: (next read − previous read) per slot between them, when both exist and it is not negative
    sel = np.flatnonzero(~gap_interval)
    rows = np.flatnonzero(~interval)
    if sel.size and rows.size:
        rc, rx, rv = row_code[rows], x[rows], value[rows]
        n = rows.size
        all_c = np.concatenate([rc, gap_code[sel]])
        all_x = np.concatenate([rx, target[sel]])
        is_read = np.concatenate([np.ones(n, bool), np.zeros(sel.size, bool)])  # a read at the target comes after
        order = np.lexsort((is_read, all_x, all_c))
        sc, sr = all_c[order], is_read[order]
        position = np.arange(order.size)
        prev = np.maximum.accumulate(np.where(sr, position, -1))
        following = np.minimum.accumulate(np.where(sr, position, order.size)[::-1])[::-1]
        where = np.flatnonzero(~sr)
        p_pos, n_pos = np.clip(prev[where], 0, None), np.clip(following[where], None, order.size - 1)
        ok = (prev[where] >= 0) & (following[where] < order.size) & (sc[p_pos] == sc[where]) & (
            sc[n_pos] == sc[where])
        before, after = order[p_pos] % n, order[n_pos] % n
        step = gaps["step"].to_numpy(float)[sel][order[where] - n]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = (rv[after] - rv[before]) / ((rx[after] - rx[before]) / step)
        out[sel[order[where] - n]] = np.where(ok & (rate >= 0), rate, np.nan)
    return pd.Series(out, index=gaps.index)


def _duplicate_checks(prepared: pd.DataFrame, rules: QualityRules) -> list[pd.DataFrame]:
    """Keys with more than one distinct raw value: conflicts (received close together) and revisions."""
    # only keys sent more than once can conflict: prepared rows are sorted by point and read time, so those are
    # the rows equal to a neighbour on (point, ts); the rest of the frame is never copied
    codes = _codes(prepared["point_id"])
    ts = prepared["ts"].astype("int64").to_numpy()
    same_as_next = np.zeros(len(prepared), bool)
    same_as_next[:-1] = (codes[1:] == codes[:-1]) & (ts[1:] == ts[:-1])
    repeated = same_as_next.copy()
    repeated[1:] |= same_as_next[:-1]
    if not repeated.any():
        return []
    keyed = prepared[repeated].drop_duplicates(["point_id", "ts", "value_raw"], keep="first")
    counts = keyed.groupby(["point_id", "ts"])["value_raw"].transform("size")
    multi = keyed[counts > 1].copy()
    if multi.empty:
        return []
    multi["first_received"] = multi.groupby(["point_id", "ts"])["received_at"].transform("min")
    multi["first_value"] = multi.groupby(["point_id", "ts"])["value_raw"].transform("first")
    multi["order"] = multi.groupby(["point_id", "ts"]).cumcount()
    later = multi[multi["order"] > 0]
    window = pd.Timedelta(minutes=rules.param("duplicate_conflict", "window_minutes"))
    delay = later["received_at"] - later["first_received"]
    conflict = delay.isna() | (delay <= window)
    out = []
    detail = ("values " + later["first_value"].round(4).astype(str) + " and " + later["value_raw"].round(4)
              .astype(str) + ", received " + (delay.dt.total_seconds() / 60).round(1).astype(str) + " min apart")
    for mask, rule in ((conflict, rules.rules["duplicate_conflict"]), (~conflict, rules.rules["revision"])):
        rows = later[mask].drop_duplicates(["point_id", "ts"])
        if not rows.empty:
            out.append(_flags(rows, rule, detail[mask].loc[rows.index]))
    return out


def _late_checks(prepared: pd.DataFrame, rules: QualityRules) -> list[pd.DataFrame]:
    limit = pd.Timedelta(hours=rules.param("late_upload", "max_delay_hours"))
    delay = prepared["received_at"] - prepared["end"]
    late = (prepared["revision"].to_numpy() == 0) & (delay > limit).to_numpy()  # first receipts only
    if not late.any():
        return []
    return [_flags(prepared[late], rules.rules["late_upload"], "received " + (delay[late].dt.total_seconds() / 3600)
                   .round(1).astype(str) + " h after the interval end")]


#: rules whose suggested value replaces the reading's energy in the repaired view
VALUE_REPAIR_RULES = ("negative_value", "unit_mistake", "impossible_value", "spike", "stuck_meter", "counter_reset")


def daily_energy(readings: pd.DataFrame, registry: Registry, *, prepared: pd.DataFrame | None = None,
                 now: pd.Timestamp | None = None, rules: QualityRules | None = None,
                 flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """Energy per point and local day from the latest revisions (future rows and negative values left out).

    Columns ``point_id, enterprise_id, energy_type, parent_point_id, day, energy, energy_unit, energy_tce, slots,
    repaired`` (``slots``: distinct grid slots with a reading; ``repaired``: values taken from ``flags``).
    Registers are differenced with rollover correction; a decrease that is not a plausible rollover (a reset)
    gives no energy. tce at 当量值 (GB/T 2589-2020 rows). With ``flags`` (from :func:`check`) the repaired view
    is summed: flagged values of :data:`VALUE_REPAIR_RULES` are replaced by their suggested values and gaps of
    interval meters are filled (a register's next read already covers its gap); raw data stay untouched.
    """
    frame = _latest(prepared if prepared is not None else prepare(readings, registry))
    if now is not None:
        frame = frame[frame["ts"] <= now]
    energy = frame["value_raw"] * frame["factor"]
    cumulative = frame["kind"].eq("cumulative")
    if cumulative.any():
        registers = frame[cumulative]
        corrected = _register_deltas(registers, rules or load_rules())["corrected"]
        energy.loc[registers.index] = corrected * registers["factor"]
    repaired = pd.Series(False, index=frame.index)
    extra = None
    if flags is not None and not flags.empty:
        fixes = flags[flags["suggested_value"].notna() & flags["rule_id"].isin(VALUE_REPAIR_RULES)]
        key = pd.DataFrame({"point_id": frame["point_id"].astype(str).to_numpy(),
                            "ts": frame["ts"].astype("int64").to_numpy()})
        cum = fixes["point_id"].astype(str).map(registry.points.set_index("point_id")["kind"]).eq("cumulative")
        fix_key = pd.DataFrame({"point_id": fixes["point_id"].astype(str).to_numpy(),
                                "ts": _utc(fixes["start"].where(~cum, fixes["end"])).astype("int64").to_numpy(),
                                "fix": fixes["suggested_value"].to_numpy(float)}).drop_duplicates(["point_id", "ts"])
        matched = key.merge(fix_key, on=["point_id", "ts"], how="left")["fix"].to_numpy()
        has = ~np.isnan(matched)
        energy = energy.where(~has, matched)
        repaired = pd.Series(has, index=frame.index)
        gaps = flags[(flags["rule_id"] == "gap") & flags["suggested_value"].notna()]
        points = registry.points.set_index("point_id")
        gaps = gaps[gaps["point_id"].astype(str).map(points["kind"]).eq("interval")]
        if not gaps.empty:
            ids = gaps["point_id"].astype(str)
            extra = pd.DataFrame({"point_id": ids.to_numpy(), "ts": _utc(gaps["start"]).to_numpy(),
                                  "energy": gaps["suggested_value"].to_numpy(float)})
            for column in ("enterprise_id", "energy_type", "parent_point_id"):
                extra[column] = ids.map(points[column]).to_numpy()
            extra["canonical_unit"] = extra["energy_type"].map(energy_types()["canonical_unit"])
    energy = energy.where(energy >= 0)
    step = frame["interval_minutes"].to_numpy(np.int64) * 60 * 1_000_000_000
    slot = np.round(frame["ts"].astype("int64").to_numpy() / step)
    # a register read at 00:00 closes the previous day
    cumulative_ns = cumulative.to_numpy() * 1_000_000_000
    day = _local_day_number(frame["ts"], registry.timezone, shift_ns=cumulative_ns)
    # rows of the readings, then the gap fills; grouped on integer codes (point, local day) in that row order
    seen = frame["point_id"]
    seen = (pd.Index(seen.cat.categories[np.unique(seen.cat.codes[seen.cat.codes >= 0])].astype(str))
            if isinstance(seen.dtype, pd.CategoricalDtype) else pd.Index(seen.astype(str).unique()))
    ids = pd.Index(sorted(set(seen) | (set(extra["point_id"].astype(str)) if extra is not None else set())))
    point_code = _recode(frame["point_id"], ids)
    values = energy.to_numpy(float)
    repaired_count = repaired.to_numpy(int)
    if extra is not None:
        point_code = np.concatenate([point_code, ids.get_indexer(extra["point_id"].astype(str))])
        day = np.concatenate([day, _local_day_number(_utc(extra["ts"]), registry.timezone)])
        values = np.concatenate([values, extra["energy"].to_numpy(float)])
        slot = np.concatenate([slot, np.full(len(extra), np.nan)])
        repaired_count = np.concatenate([repaired_count, np.ones(len(extra), int)])
    if point_code.size == 0:  # no readings: typed columns, so callers' comparisons and divisions still work
        return _empty_daily()
    points = registry.points.set_index("point_id").reindex(ids)
    tce = points["energy_type"].map(tce_factors()["tce_per_unit"]).astype(float).to_numpy()
    out = pd.DataFrame({"code": point_code, "day": day, "energy": values, "slot": slot, "repaired": repaired_count,
                        "energy_tce": values * tce[point_code]})
    grouped = out.groupby(["code", "day"], sort=True)
    result = grouped.agg(energy=("energy", "sum"), slots=("slot", "nunique"), repaired=("repaired", "sum"))
    result["energy_tce"] = grouped["energy_tce"].sum(min_count=1)
    result = result.reset_index()
    code = result["code"].to_numpy()
    days = np.unique(result["day"].to_numpy())
    labels = pd.to_datetime(days * _DAY_NS, unit="ns").strftime("%Y-%m-%d")
    result["day"] = pd.Series(np.asarray(labels, dtype=object)[np.searchsorted(days, result["day"].to_numpy())],
                              dtype="str")
    result["point_id"] = pd.Series(ids.to_numpy(object)[code], dtype="str")
    for column in ("enterprise_id", "energy_type", "parent_point_id"):
        result[column] = pd.Series(points[column].astype(str).to_numpy(object)[code], dtype="str")
    result["energy_unit"] = pd.Series(points["energy_type"].map(energy_types()["canonical_unit"]).astype(str)
                                      .to_numpy(object)[code], dtype="str")
    result["slots"] = result["slots"].astype("int64")
    result["repaired"] = result["repaired"].astype("int64")
    return result[list(DAILY_COLUMNS)]


_DAY_NS = 86_400 * 1_000_000_000


def _local_day_number(ts: pd.Series, timezone: str, shift_ns: np.ndarray | int = 0) -> np.ndarray:
    """Local calendar day of each UTC time (days since 1970-01-01 of the wall clock in ``timezone``), after
    moving the time back by ``shift_ns``; the wall clock is taken from the time zone's rules (DST-safe)."""
    utc_ns = ts.astype("int64").to_numpy() - shift_ns
    if utc_ns.size == 0:
        return utc_ns
    moved = pd.DatetimeIndex(pd.to_datetime(utc_ns, unit="ns", utc=True)).tz_convert(timezone).tz_localize(None)
    return moved.asi8 // _DAY_NS


#: columns of :func:`daily_energy`
DAILY_COLUMNS = ("point_id", "enterprise_id", "energy_type", "parent_point_id", "day", "energy_unit", "energy",
                 "energy_tce", "slots", "repaired")


def _empty_daily() -> pd.DataFrame:
    """The frame :func:`daily_energy` returns for a window without readings (string ids, float energy, int
    counts): an empty groupby otherwise leaves object/float columns that pandas 3 refuses to compare with
    strings or divide by integers."""
    text = {c: pd.Series(dtype="str") for c in ("point_id", "enterprise_id", "energy_type", "parent_point_id", "day",
                                                 "energy_unit")}
    return pd.DataFrame({**text, "energy": pd.Series(dtype=float), "energy_tce": pd.Series(dtype=float),
                         "slots": pd.Series(dtype="int64"), "repaired": pd.Series(dtype="int64")})[list(DAILY_COLUMNS)]


def _day_labels(local: pd.Series) -> pd.Series:
    """YYYY-MM-DD of local timestamps (formatting each distinct day once)."""
    days = local.dt.floor("D")
    labels = {d: d.strftime("%Y-%m-%d") for d in days.unique()}
    return days.map(labels)


def _balance_checks(cur: pd.DataFrame, registry: Registry, rules: QualityRules,
                    prepared: pd.DataFrame) -> list[pd.DataFrame]:
    points = registry.points
    children = points[points["parent_point_id"] != ""]
    if children.empty:
        return []
    daily = daily_energy(cur, registry, prepared=prepared, rules=rules)
    if daily.empty:  # no readings in the window: nothing to balance
        return []
    expected = 1440 // points.set_index("point_id")["interval_minutes"]
    daily["complete"] = daily["slots"] / daily["point_id"].map(expected)
    minimum = rules.param("submeter_balance", "min_completeness")
    kids = daily[daily["parent_point_id"] != ""]
    n_children = children.groupby("parent_point_id").size()
    sums = kids[kids["complete"] >= minimum].groupby(["parent_point_id", "day"]).agg(
        children=("energy", "sum"), n=("point_id", "nunique")).reset_index()
    parents = daily[daily["complete"] >= minimum][["point_id", "day", "energy", "energy_unit"]].rename(
        columns={"point_id": "parent_point_id", "energy": "parent"})
    joined = sums.merge(parents, on=["parent_point_id", "day"])
    joined = joined[joined["n"] == joined["parent_point_id"].map(n_children)]
    joined["imbalance"] = (joined["children"] - joined["parent"]) / joined["parent"]
    bad = joined[joined["imbalance"].abs() > rules.param("submeter_balance", "tolerance")]
    if bad.empty:
        return []
    day_start = pd.to_datetime(bad["day"]).dt.tz_localize(registry.timezone).dt.tz_convert("UTC")
    frame = pd.DataFrame({"point_id": bad["parent_point_id"].to_numpy(), "start": day_start.to_numpy(),
                          "end": (day_start + pd.Timedelta(days=1)).to_numpy(),
                          "canonical_unit": bad["energy_unit"].to_numpy()})
    detail = ("sub-meters " + bad["children"].round(2).astype(str) + " vs main " + bad["parent"].round(2).astype(str)
              + " (" + (100 * bad["imbalance"]).round(1).astype(str) + "%) on " + bad["day"])
    return [_flags(frame, rules.rules["submeter_balance"], detail.reset_index(drop=True))]


def check(readings: pd.DataFrame, registry: Registry | object, rules: QualityRules | None = None, *,
          now: object, start: object = None, end: object = None) -> pd.DataFrame:
    """Flags for every rule on ``readings`` (all revisions may be given; values are judged on the latest).

    ``now``: the check time (future timestamps, lateness). ``start``/``end``: the window the readings are
    expected to cover (gaps at its edges and points without any reading are found only when both are given).
    Returns a frame of :data:`FLAG_COLUMNS`, sorted by point and time; the input is not modified.
    """
    registry = load_registry(registry)
    rules = rules or load_rules()
    now_ts = pd.Timestamp(now)
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    lo = pd.Timestamp(start).tz_convert("UTC") if start is not None else None
    hi = pd.Timestamp(end).tz_convert("UTC") if end is not None else None
    prepared = prepare(readings, registry)
    cur = _latest(prepared)
    parts = []
    ts_flags, future = _timestamp_checks(cur, rules, now_ts)
    parts += ts_flags
    valid = cur[~future].reset_index(drop=True)
    parts += _interval_checks(valid, rules)
    parts += _cumulative_checks(valid, rules)
    parts += _gap_checks(cur, registry, rules, lo, hi, future)
    parts += _duplicate_checks(prepared, rules)
    parts += _late_checks(prepared, rules)
    # the latest non-future rows are what daily energy would derive from the non-future prepared rows again
    parts += _balance_checks(valid, registry, rules, valid)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty_flags()
    flags = pd.concat(parts, ignore_index=True)[list(FLAG_COLUMNS)]
    return flags.sort_values(["point_id", "start", "rule_id"], kind="stable").reset_index(drop=True)


def _empty_flags() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in FLAG_COLUMNS})
    for column in ("start", "end"):
        frame[column] = pd.Series(dtype="datetime64[ns, UTC]")
    frame["suggested_value"] = frame["suggested_value"].astype(float)
    return frame


def repairs(flags: pd.DataFrame) -> pd.DataFrame:
    """The flags that carry a suggested value: ``point_id, start, end, rule_id, suggested_value,
    suggested_unit, method`` (the raw readings stay as they are; this is the repair layer beside them)."""
    rows = flags[flags["suggested_value"].notna()]
    return rows[["point_id", "start", "end", "rule_id", "suggested_value", "suggested_unit", "method"]].reset_index(
        drop=True)


def score(flags: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall of the flags against the simulator's truth, per fault kind.

    A flag matches a truth row with the same ``point_id``, fault kind and interval ``end`` (the read time of a
    register, the end of an interval). Columns ``fault_kind, truth, flagged, true_positive, precision, recall``.
    """
    kinds = sorted(set(truth["kind"]) | set(flags["fault_kind"]))
    t = truth[["point_id", "kind", "end"]].rename(columns={"kind": "fault_kind"}).drop_duplicates()
    f = flags[["point_id", "fault_kind", "end"]].drop_duplicates()
    t = t.assign(end=_utc(t["end"]))
    f = f.assign(end=_utc(f["end"]))
    hits = t.merge(f, on=["point_id", "fault_kind", "end"])
    rows = []
    for kind in kinds:
        n_truth = int((t["fault_kind"] == kind).sum())
        n_flag = int((f["fault_kind"] == kind).sum())
        tp = int((hits["fault_kind"] == kind).sum())
        rows.append({"fault_kind": kind, "truth": n_truth, "flagged": n_flag, "true_positive": tp,
                     "precision": tp / n_flag if n_flag else math.nan,
                     "recall": tp / n_truth if n_truth else math.nan})
    return pd.DataFrame(rows, columns=["fault_kind", "truth", "flagged", "true_positive", "precision", "recall"])


# ---------------------------------------------------------------------------------------- national indicators

def national_indicators(readings: pd.DataFrame, registry: Registry | object, day: object, *,
                        rules: QualityRules | None = None, now: object = None,
                        monthly_reports: pd.DataFrame | None = None,
                        prepared: pd.DataFrame | None = None, daily: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per enterprise, for local ``day`` (YYYY-MM-DD in the registry's time zone), the national indicators of
    methods.md §5:

    * ``completeness`` = distinct grid slots with a reading / slots expected over all the enterprise's points
      (``completeness_ok``: ≥ 0.90);
    * ``timeliness`` = share of expected slots whose reading is on the grid (±60 s) and was first received
      within ``late_upload.max_delay_hours`` (``timeliness_ok``: ≥ ``timeliness_min_share``, an estimate);
    * ``daily_vs_monthly_deviation`` = (sum over the month's days of the daily energy of main meters, tce) /
      (the unit's monthly report, ``monthly_reports``: ``enterprise_id, month, energy_tce``) − 1, for the month
      of ``day`` when reported and every day of it is in ``readings``; else empty (``daily_vs_monthly_ok``:
      |deviation| ≤ 0.05).

    ``prepared``: the frame of :func:`prepare` for these readings, when the caller has it already. ``daily``:
    daily energy per point for the month (:func:`daily_energy` or the lake's rollup through
    ``alerts.daily_from_rollup``), so that ``readings`` need only cover the day itself.
    """
    registry = load_registry(registry)
    rules = rules or load_rules()
    tz = registry.timezone
    day_start = pd.Timestamp(str(day)).tz_localize(tz) if pd.Timestamp(str(day)).tzinfo is None else pd.Timestamp(day)
    day_label = day_start.strftime("%Y-%m-%d")
    now_ts = pd.Timestamp(now).tz_convert("UTC") if now is not None else None
    prepared = prepared if prepared is not None else prepare(readings, registry)
    if now_ts is not None:
        prepared = prepared[prepared["ts"] <= now_ts + pd.Timedelta(
            seconds=rules.param("future_timestamp", "tolerance_seconds"))]
    cur = _latest(prepared)
    points = registry.points
    expected = (1440 // points["interval_minutes"]).groupby(points["enterprise_id"]).sum()
    cumulative = cur["kind"].eq("cumulative")
    local = cur["ts"].dt.tz_convert(tz)
    local = local.where(~cumulative, local - pd.Timedelta(seconds=1))
    in_day = _day_labels(local) == day_label
    rows = cur[in_day].copy()
    step = rows["interval_minutes"].astype("int64") * 60 * 1_000_000_000
    ts = rows["ts"].astype("int64")
    rows["slot"] = np.round(ts / step).astype("int64")
    off = np.minimum(ts % step, step - ts % step) / 1e9
    first = prepared[prepared["revision"] == 0][["point_id", "ts", "received_at", "end"]]
    rows = rows.merge(first.rename(columns={"received_at": "first_received", "end": "first_end"}),
                      on=["point_id", "ts"], how="left")
    limit = pd.Timedelta(hours=rules.param("late_upload", "max_delay_hours"))
    on_time = (rows["first_received"].isna() | ((rows["first_received"] - rows["first_end"]) <= limit)).to_numpy()
    rows["good"] = (off.to_numpy() <= rules.national["daily_timestamp_tolerance_seconds"]) & on_time
    slots = rows.drop_duplicates(["point_id", "slot"])
    received = slots.groupby("enterprise_id").size()
    good = slots.groupby("enterprise_id")["good"].sum()
    out = pd.DataFrame({"enterprise_id": registry.enterprises["enterprise_id"]})
    out["day"] = day_label
    out["expected_slots"] = out["enterprise_id"].map(expected).fillna(0).astype(int)
    out["received_slots"] = out["enterprise_id"].map(received).fillna(0).astype(int)
    out["completeness"] = out["received_slots"] / out["expected_slots"].where(out["expected_slots"] > 0)
    out["completeness_ok"] = out["completeness"] >= rules.national["completeness_min"] - 1e-12
    out["timeliness"] = out["enterprise_id"].map(good).fillna(0) / out["expected_slots"].where(
        out["expected_slots"] > 0)
    out["timeliness_ok"] = out["timeliness"] >= rules.national["timeliness_min_share"] - 1e-12
    out["daily_vs_monthly_deviation"] = _monthly_deviation(prepared, registry, day_start, monthly_reports, daily)
    out["daily_vs_monthly_ok"] = out["daily_vs_monthly_deviation"].abs().le(
        rules.national["daily_vs_monthly_max"] + 1e-12).where(out["daily_vs_monthly_deviation"].notna())
    return out


def _monthly_deviation(prepared: pd.DataFrame, registry: Registry, day_start: pd.Timestamp,
                       monthly_reports: pd.DataFrame | None, daily: pd.DataFrame | None = None) -> pd.Series:
    index = registry.enterprises["enterprise_id"]
    empty = pd.Series(np.nan, index=range(len(index)))
    if monthly_reports is None or monthly_reports.empty:
        return empty
    month = day_start.strftime("%Y-%m")
    reports = monthly_reports[monthly_reports["month"].astype(str) == month].set_index("enterprise_id")["energy_tce"]
    if reports.empty:
        return empty
    if daily is None:
        daily = daily_energy(prepared, registry, prepared=prepared)
    mains = daily[(daily["parent_point_id"] == "") & daily["energy_tce"].notna()]
    mains = mains[mains["day"].str.startswith(month)]
    days_in_month = pd.Timestamp(f"{month}-01").days_in_month
    covered = mains.groupby("enterprise_id")["day"].nunique()
    total = mains.groupby("enterprise_id")["energy_tce"].sum()
    deviation = total / reports - 1
    deviation = deviation.where(covered.reindex(deviation.index) == days_in_month)
    return pd.Series(index.map(deviation).to_numpy(float))
