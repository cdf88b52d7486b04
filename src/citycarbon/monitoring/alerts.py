"""Alerts for key energy-using units, each with the numbers behind it, and the monthly feed of the nowcast.

Kinds
-----
* ``budget``: cumulative energy since 1 January (local) above the annual budget's path,
  ``path = annual_budget_tce × elapsed share`` (days elapsed / days in the year, or a month-weighted share);
  warning above ``path × (1 + warning_threshold)``, error above ``path × (1 + error_threshold)``
  (``data/monitoring/alert_rules.yaml``). Energy = main meters (no parent point) of energy types, tce at 当量值.
* ``product_limit``: unit consumption of a product over the month to date = energy of its points
  (``purpose = product:<id>``, tce; electricity only, in kWh, when the limit is per kWh) / output of its output
  points (``energy_type = product_output``, ``purpose = output:<id>``), compared with the product's
  ``limit_value`` (单位产品能耗限额; ``data/monitoring/product_limits.csv``).
* ``completeness``: an enterprise's completeness for the day below 90 % (methods.md §5).
* ``silence``: a point without any reading for more than ``silence_hours``.
* ``unrepaired_fault``: a warning/error quality flag older than 3 working days (methods.md §5 provincial O&M
  rule) still present in the data; working days are Monday–Friday (public holidays are not known here).

Each alert row: ``kind, level, enterprise_id, subject, period_start, period_end, value, threshold, unit,
message, numbers`` (``numbers``: a dict with every figure the alert was computed from, and the points used).
Input: the readings (contract or lake frame) + registry + rules; daily energy from
:func:`citycarbon.monitoring.quality.daily_energy` (the lake's daily rollup gives the same figures).
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
from citycarbon.monitoring import quality
from citycarbon.monitoring.registry import Registry, energy_types, load_registry
from citycarbon.units import UnitError, conversion_factor

__all__ = [
    "ALERT_COLUMNS",
    "AlertRules",
    "alerts",
    "budget_alerts",
    "daily_from_rollup",
    "energy_view_of",
    "load_alert_rules",
    "monthly_energy_for_nowcast",
    "product_alerts",
    "quality_alerts",
    "repaired_daily",
]

ALERT_COLUMNS: tuple[str, ...] = ("kind", "level", "enterprise_id", "subject", "period_start", "period_end",
                                  "value", "threshold", "unit", "message", "numbers")


@dataclass(frozen=True)
class AlertRules:
    values: dict[str, dict[str, object]]
    source: str

    def get(self, group: str, name: str) -> object:
        return self.values[group][name]


@cache
def _shipped_alert_rules() -> AlertRules:
    path = data_path("monitoring/alert_rules.yaml")
    return _parse(path.read_text(encoding="utf-8"), path.name)


def _parse(text: str, file: str) -> AlertRules:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise InputError(Problem(f"not valid YAML: {error}", file=file)) from error
    values: dict[str, dict[str, object]] = {}
    for group in ("budget", "product_limit", "data_quality"):
        if group not in data:
            raise InputError(Problem(f"missing section {group!r}", file=file, field=group))
        values[group] = {k: (v["value"] if isinstance(v, dict) else v) for k, v in data[group].items()}
    return AlertRules(values, file)


def load_alert_rules(path: str | Path | None = None) -> AlertRules:
    """The shipped ``alert_rules.yaml`` or an office's own file of the same structure."""
    if path is None:
        return _shipped_alert_rules()
    path = Path(path)
    return _parse(path.read_text(encoding="utf-8"), path.name)


def _alert(kind: str, level: str, enterprise_id: str, subject: str, period_start: str, period_end: str,
           value: float, threshold: float, unit: str, message: str, numbers: dict) -> dict:
    return {"kind": kind, "level": level, "enterprise_id": enterprise_id, "subject": subject,
            "period_start": period_start, "period_end": period_end, "value": value, "threshold": threshold,
            "unit": unit, "message": message, "numbers": numbers}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ALERT_COLUMNS))


def _main_energy_points(registry: Registry) -> pd.DataFrame:
    points = registry.points
    is_energy = points["energy_type"].map(energy_types()["is_energy"]).fillna(False).astype(bool)
    return points[(points["parent_point_id"] == "") & is_energy]


# ------------------------------------------------------------------------------------------ daily energy input

#: the two energy views an alert can be computed on (written into its numbers as ``energy_view``)
VIEW_REPAIRED = "repaired: latest revisions with the quality flags' suggested values (gaps filled)"
VIEW_RAW = "raw: latest revisions as stored (lake rollup), faults included"


def energy_view_of(daily: pd.DataFrame) -> str:
    """The view a daily frame holds: ``daily.attrs['energy_view']`` when set (:func:`daily_from_rollup`,
    :func:`repaired_daily`), else repaired when any value was repaired, else raw."""
    view = daily.attrs.get("energy_view")
    if view:
        return str(view)
    repaired = "repaired" in daily.columns and bool((daily["repaired"] > 0).any())
    return VIEW_REPAIRED if repaired else VIEW_RAW


def repaired_daily(daily: pd.DataFrame, repaired: pd.DataFrame) -> pd.DataFrame:
    """``daily`` (e.g. the lake's raw rollup) with every (point, day) that ``repaired`` covers replaced by it
    (``quality.daily_energy(..., flags=...)`` of the readings that were checked). Marked as the repaired view."""
    key = ["point_id", "day"]
    if repaired.empty:
        out = daily.copy()
    else:
        covered = pd.MultiIndex.from_frame(repaired[key].astype(str))
        keep = ~pd.MultiIndex.from_frame(daily[key].astype(str)).isin(covered)
        out = pd.concat([daily[keep], repaired[list(daily.columns)]], ignore_index=True)
        out = out.sort_values(key, kind="stable").reset_index(drop=True)
    out.attrs["energy_view"] = VIEW_REPAIRED
    return out


def daily_from_rollup(rollup: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """The lake's daily rollup by point (``rollup(period="day", by="point")``: ``period, point_id, energy,
    tce_calorific``, …) as the daily frame the budget and product alerts read (the columns of
    :func:`quality.daily_energy`). The rollup sums the raw latest revisions; ``quality.daily_energy(...,
    flags=...)`` sums the repaired view instead."""
    missing = [c for c in ("period", "point_id", "energy", "tce_calorific") if c not in rollup.columns]
    if missing:
        raise InputError(Problem(f"the rollup lacks column {missing[0]!r} (use period='day', by='point')",
                                 field=missing[0]))
    period = rollup["period"]
    if pd.api.types.is_datetime64_any_dtype(period):
        if getattr(period.dt, "tz", None) is not None:
            period = period.dt.tz_convert(registry.timezone)
        day = period.dt.strftime("%Y-%m-%d")
    else:
        day = period.astype(str).str.slice(0, 10)
    points = registry.points.set_index("point_id")
    ids = rollup["point_id"].astype(str)
    out = pd.DataFrame({"point_id": ids.to_numpy(), "enterprise_id": ids.map(points["enterprise_id"]).to_numpy(),
                        "energy_type": ids.map(points["energy_type"]).to_numpy(),
                        "parent_point_id": ids.map(points["parent_point_id"]).to_numpy(), "day": day.to_numpy(),
                        "energy_unit": (rollup["energy_unit"] if "energy_unit" in rollup.columns else
                                        ids.map(points["energy_type"]).map(energy_types()["canonical_unit"])
                                        ).to_numpy(),
                        "energy": rollup["energy"].to_numpy(float),
                        "energy_tce": rollup["tce_calorific"].to_numpy(float),
                        "slots": (rollup["readings"] if "readings" in rollup.columns else pd.Series(
                            0, index=rollup.index)).to_numpy(), "repaired": 0})
    out = out.sort_values(["point_id", "day"]).reset_index(drop=True)
    out.attrs["energy_view"] = VIEW_RAW
    return out


# ---------------------------------------------------------------------------------------------------- budget

def budget_alerts(daily: pd.DataFrame, registry: Registry, *, date: str, rules: AlertRules | None = None,
                  month_weights: dict[int, float] | pd.DataFrame | None = None,
                  energy_view: str | None = None) -> pd.DataFrame:
    """Enterprises ahead of their annual budget's path on local ``date`` (YYYY-MM-DD, inclusive).

    ``daily``: :func:`quality.daily_energy` (or :func:`daily_from_rollup`) frame. ``month_weights``: month →
    relative weight for a seasonal path (each day of month m weighs w_m / days in m), or a frame
    ``enterprise_id, month, weight`` for one profile per enterprise (others pro-rata); pro-rata by days when None.
    ``energy_view``: which energy ``daily`` holds (:func:`energy_view_of`), written into each alert's numbers.
    """
    view = energy_view or energy_view_of(daily)
    rules = rules or load_alert_rules()
    day = pd.Timestamp(date)
    year_start = pd.Timestamp(year=day.year, month=1, day=1)
    days = pd.date_range(year_start, pd.Timestamp(year=day.year, month=12, day=31), freq="D")
    elapsed = (day - year_start).days + 1

    def share_of(weights_by_month: dict[int, float] | None) -> float:
        if not weights_by_month:
            return elapsed / len(days)
        weights = np.array([float(weights_by_month.get(d.month, 0.0)) / d.days_in_month for d in days])
        return float(weights[:elapsed].sum() / weights.sum())

    per_enterprise: dict[str, dict[int, float]] = {}
    if isinstance(month_weights, pd.DataFrame):
        for enterprise_id, group in month_weights.groupby("enterprise_id"):
            per_enterprise[str(enterprise_id)] = dict(zip(group["month"].astype(int), group["weight"].astype(float),
                                                          strict=True))
        common = None
    else:
        common = month_weights
    mains = _main_energy_points(registry)
    in_year = daily[(daily["day"] >= year_start.strftime("%Y-%m-%d")) & (daily["day"] <= day.strftime("%Y-%m-%d"))
                    & daily["point_id"].isin(mains["point_id"])]
    cumulative = in_year.groupby("enterprise_id")["energy_tce"].sum()
    covered = in_year.groupby("enterprise_id")["day"].nunique()
    repaired = in_year.groupby("enterprise_id")["repaired"].sum() if "repaired" in in_year.columns else None
    warning, error = float(rules.get("budget", "warning_threshold")), float(rules.get("budget", "error_threshold"))
    rows = []
    for ent in registry.enterprises.itertuples(index=False):
        budget = ent.annual_budget_tce
        if budget is None or (isinstance(budget, float) and math.isnan(budget)) or pd.isna(ent.budget_year):
            continue
        if int(ent.budget_year) != day.year or ent.enterprise_id not in cumulative.index:
            continue
        value = float(cumulative[ent.enterprise_id])
        profile = per_enterprise.get(ent.enterprise_id, common)
        elapsed_share = share_of(profile)
        path = float(budget) * elapsed_share
        ratio = value / path - 1 if path > 0 else math.inf
        level = "error" if ratio > error else "warning" if ratio > warning else None
        if level is None:
            continue
        threshold = path * (1 + (error if level == "error" else warning))
        points = sorted(mains.loc[mains["enterprise_id"] == ent.enterprise_id, "point_id"])
        rows.append(_alert(
            "budget", level, ent.enterprise_id, "", year_start.strftime("%Y-%m-%d"), day.strftime("%Y-%m-%d"),
            value, threshold, "tce",
            f"{ent.name}: 累计能耗 {value:,.1f} tce 超过年度预算序时进度 {path:,.1f} tce ({ratio:+.1%})",
            {"cumulative_tce": value, "annual_budget_tce": float(budget), "elapsed_share": elapsed_share,
             "path_tce": path, "ahead_share": ratio, "threshold_share": error if level == "error" else warning,
             "days_with_data": int(covered.get(ent.enterprise_id, 0)), "seasonal": bool(profile),
             "points": points, "method": "calorific (当量值, GB/T 2589-2020)", "energy_view": view,
             "repaired_values": int(repaired.get(ent.enterprise_id, 0)) if repaired is not None else 0}))
    return _frame(rows)


# ----------------------------------------------------------------------------------------------- product limit

def product_alerts(daily: pd.DataFrame, registry: Registry, *, date: str,
                   rules: AlertRules | None = None, energy_view: str | None = None) -> pd.DataFrame:
    """Products whose unit consumption over the month to ``date`` (local) exceeds their limit.
    ``energy_view``: which energy ``daily`` holds (:func:`energy_view_of`), written into the numbers."""
    rules = rules or load_alert_rules()
    view = energy_view or energy_view_of(daily)
    day = pd.Timestamp(date)
    first = day.replace(day=1).strftime("%Y-%m-%d")
    period = daily[(daily["day"] >= first) & (daily["day"] <= day.strftime("%Y-%m-%d"))]
    points = registry.points
    tolerance = float(rules.get("product_limit", "tolerance"))
    min_output = float(rules.get("product_limit", "min_output"))
    rows = []
    for product in registry.products.itertuples(index=False):
        if product.limit_value is None or pd.isna(product.limit_value):
            continue
        energy_points = points.loc[points["purpose"] == f"product:{product.product_id}", "point_id"]
        output_points = points.loc[points["purpose"] == f"output:{product.product_id}", "point_id"]
        if energy_points.empty or output_points.empty:
            continue
        output = float(period.loc[period["point_id"].isin(output_points), "energy"].sum())
        if output < min_output:
            continue
        used = period[period["point_id"].isin(energy_points)]
        electricity_only = "Wh" in str(product.limit_unit)
        if electricity_only:
            energy = float(used.loc[used["energy_type"] == "electricity", "energy"].sum())
            energy_unit = "kWh"
        else:
            energy = float(used["energy_tce"].sum())
            energy_unit = "tce"
        try:
            per_unit = energy / output * conversion_factor(f"{energy_unit}/({product.unit})", str(product.limit_unit))
        except UnitError as error:
            raise InputError(Problem(f"product {product.product_id}: {error}", field="limit_unit",
                                     value=product.limit_unit)) from error
        limit = float(product.limit_value)
        threshold = limit * (1 + tolerance)
        if per_unit <= threshold:
            continue
        rows.append(_alert(
            "product_limit", "error", product.enterprise_id, product.product_id, first, day.strftime("%Y-%m-%d"),
            per_unit, threshold, str(product.limit_unit),
            f"{product.name}: 单位产品能耗 {per_unit:,.1f} {product.limit_unit} 超过限额 {limit:,.1f}"
            f" ({product.limit_standard})",
            {"energy": energy, "energy_unit": energy_unit, "output": output, "output_unit": product.unit,
             "unit_consumption": per_unit, "limit_value": limit, "limit_unit": product.limit_unit,
             "limit_standard": product.limit_standard, "energy_points": sorted(energy_points),
             "output_points": sorted(output_points), "energy_view": view,
             "repaired_values": int(used["repaired"].sum()) if "repaired" in used.columns else 0}))
    return _frame(rows)


# ------------------------------------------------------------------------------------------------ data quality

def _working_days_between(start: pd.Series, now: pd.Timestamp, timezone: str) -> np.ndarray:
    """Whole working days (Mon–Fri) from each local start date to the local date of ``now``."""
    begin = start.dt.tz_convert(timezone).dt.strftime("%Y-%m-%d").to_numpy().astype("datetime64[D]")
    end = np.datetime64(now.tz_convert(timezone).strftime("%Y-%m-%d"), "D")
    return np.busday_count(begin, end)


def quality_alerts(readings: pd.DataFrame, registry: Registry, *, date: str, now: object,
                   flags: pd.DataFrame | None = None, indicators: pd.DataFrame | None = None,
                   rules: AlertRules | None = None, quality_rules: quality.QualityRules | None = None,
                   prepared: pd.DataFrame | None = None, window_start: object = None) -> pd.DataFrame:
    """Completeness below 90 % on ``date``, silent points, and faults unrepaired beyond the deadline.

    ``window_start``: where the readings passed begin (a point with no reading in them gets "no data in the
    window" with the window; default the earliest reading's start)."""
    window_start = _utc_or_none(window_start)
    rules = rules or load_alert_rules()
    now_ts = pd.Timestamp(now)
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    if indicators is None:
        indicators = quality.national_indicators(readings, registry, date, rules=quality_rules, now=now_ts,
                                                 prepared=prepared)
    rows = []
    minimum = float(rules.get("data_quality", "completeness_min"))
    names = registry.enterprises.set_index("enterprise_id")["name"]
    for row in indicators.itertuples(index=False):
        if pd.isna(row.completeness) or row.completeness >= minimum - 1e-12:
            continue
        rows.append(_alert(
            "completeness", "warning", row.enterprise_id, "", str(row.day), str(row.day), float(row.completeness),
            minimum, "share", f"{names.get(row.enterprise_id, row.enterprise_id)}: {row.day} 数据完整率 "
            f"{row.completeness:.1%} 低于 {minimum:.0%}",
            {"received_slots": int(row.received_slots), "expected_slots": int(row.expected_slots),
             "completeness": float(row.completeness)}))
    prepared = prepared if prepared is not None else quality.prepare(readings, registry)
    if window_start is None and len(prepared):
        window_start = prepared["start"].min()
    prepared = prepared[prepared["ts"] <= now_ts]
    last = prepared.groupby("point_id", observed=True)["end"].max()
    silence = pd.Timedelta(hours=float(rules.get("data_quality", "silence_hours")))
    for point in registry.points.itertuples(index=False):
        seen = last.get(point.point_id)
        if seen is not None and not pd.isna(seen) and now_ts - seen <= silence:
            continue
        never = seen is None or pd.isna(seen)
        hours = math.inf if never else (now_ts - seen).total_seconds() / 3600
        if never:  # nothing in the readings passed: say so with the window instead of "inf hours"
            since = window_start.isoformat() if window_start is not None else "the start of the readings"
            message = (f"计量点 {point.point_id} 窗口内无数据 / no data in the window "
                       f"({since} – {now_ts.isoformat()})")
        else:
            message = f"计量点 {point.point_id} 已 {hours:,.1f} 小时无数据 / no reading for {hours:,.1f} h"
        rows.append(_alert(
            "silence", "warning", point.enterprise_id, point.point_id, "" if never else seen.isoformat(),
            now_ts.isoformat(), None if never else hours, silence.total_seconds() / 3600, "h", message,
            {"last_reading_end": None if never else seen.isoformat(), "silence_hours": None if never else hours,
             "no_data_in_window": never,
             "window_start": window_start.isoformat() if window_start is not None else None,
             "window_end": now_ts.isoformat()}))
    if flags is not None and not flags.empty:
        deadline = int(rules.get("data_quality", "repair_deadline_working_days"))
        serious = flags[flags["severity"].isin(["warning", "error"])].copy()
        if not serious.empty:
            serious["working_days"] = _working_days_between(serious["start"], now_ts, registry.timezone)
            overdue = serious[serious["working_days"] > deadline]
            overdue = overdue.assign(enterprise_id=overdue["point_id"].astype(str).map(
                registry.points.set_index("point_id")["enterprise_id"]))
            for enterprise_id, group in overdue.groupby("enterprise_id"):
                oldest = group["start"].min()
                rows.append(_alert(
                    "unrepaired_fault", "error", str(enterprise_id), "", oldest.isoformat(), now_ts.isoformat(),
                    float(group["working_days"].max()), float(deadline), "working days",
                    f"{names.get(enterprise_id, enterprise_id)}: {len(group)} 项数据质量问题超过 {deadline} "
                    "个工作日未修复",
                    {"flags": len(group), "rules": group["rule_id"].value_counts().to_dict(),
                     "oldest_start": oldest.isoformat(), "points": sorted(group["point_id"].astype(str).unique())}))
    return _frame(rows)


def _utc_or_none(value: object) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


# ------------------------------------------------------------------------------------------------------- all

def alerts(readings: pd.DataFrame, registry: Registry | object, *, date: str, now: object = None,
           flags: pd.DataFrame | None = None, rules: AlertRules | None = None,
           quality_rules: quality.QualityRules | None = None,
           month_weights: dict[int, float] | pd.DataFrame | None = None,
           daily: pd.DataFrame | None = None, window_start: object = None) -> pd.DataFrame:
    """Every alert for local ``date`` (default ``now`` = the end of that day). ``readings`` should cover the
    year to date for the budget path and the month to date for product limits. With ``flags`` (from
    :func:`quality.check`) energy is summed on the repaired view and overdue faults are reported. ``daily``: the
    daily energy per point for the year to date when the caller has it (e.g. :func:`daily_from_rollup` of the
    lake's rollup, or :func:`repaired_daily`); ``readings`` then need only cover the recent days the data-quality
    alerts look at. Budget and product alerts say in ``numbers['energy_view']`` whether they were computed on the
    repaired or the raw energy. ``window_start``: where ``readings`` begin (for "no data in the window")."""
    registry = load_registry(registry)
    rules = rules or load_alert_rules()
    day_end = pd.Timestamp(date).tz_localize(registry.timezone) + pd.Timedelta(days=1)
    now_ts = pd.Timestamp(now) if now is not None else day_end.tz_convert("UTC")
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    prepared = quality.prepare(readings, registry)
    view = None
    if daily is None:
        daily = quality.daily_energy(readings, registry, prepared=prepared, now=now_ts, rules=quality_rules,
                                     flags=flags)
        view = VIEW_REPAIRED if flags is not None else VIEW_RAW
    parts = [budget_alerts(daily, registry, date=date, rules=rules, month_weights=month_weights, energy_view=view),
             product_alerts(daily, registry, date=date, rules=rules, energy_view=view),
             quality_alerts(readings, registry, date=date, now=now_ts, flags=flags, rules=rules,
                            quality_rules=quality_rules, prepared=prepared, window_start=window_start)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _frame([])
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------------------------- nowcast feed

def monthly_energy_for_nowcast(rollups: pd.DataFrame, registry: Registry | None = None, *,
                               region: str = "210200") -> pd.DataFrame:
    """Monthly energy of the monitored key units as the tracking nowcast's ``key_unit_energy_tce`` variable.

    ``rollups``: a daily frame of :func:`quality.daily_energy` (``day``, ``energy_tce``, point columns) or a
    rollup with a ``period``/``month`` column (``YYYY-MM`` or ``YYYY-MM-DD``) and ``energy_tce`` or
    ``tce_calorific``. With ``point_id`` and a registry, only main meters of energy types count (sub-meters
    would double count). Returns ``year, month, region, variable, value, unit, status, source, enterprises`` —
    the columns of ``data/<city>/monthly.csv`` (:func:`citycarbon.tracking.nowcast.check_monthly` accepts it).
    The value is the monitored units' total, i.e. the key units' share of the city's energy, not the city's.
    """
    frame = rollups.copy()
    time_column = next((c for c in ("month", "period", "day") if c in frame.columns), None)
    value_column = next((c for c in ("energy_tce", "tce_calorific") if c in frame.columns), None)
    if time_column is None or value_column is None:
        raise InputError(Problem("rollups need a month/period/day column and energy_tce or tce_calorific",
                                 field="columns", value=list(frame.columns)))
    if registry is not None and "point_id" in frame.columns:
        frame = frame[frame["point_id"].isin(_main_energy_points(registry)["point_id"])]
    labels = frame[time_column].astype(str).str.slice(0, 7)
    frame = frame.assign(year=labels.str.slice(0, 4).astype(int), month=labels.str.slice(5, 7).astype(int))
    grouped = frame.groupby(["year", "month"])
    out = grouped[value_column].sum().rename("value").reset_index()
    if "enterprise_id" in frame.columns:
        out["enterprises"] = grouped["enterprise_id"].nunique().to_numpy()
    out["region"] = region
    out["variable"] = "key_unit_energy_tce"
    out["unit"] = "tce"
    out["status"] = "reported"
    out["source"] = "citycarbon.monitoring: key energy-using units' online monitoring (当量值)"
    columns = ["year", "month", "region", "variable", "value", "unit", "status", "source"]
    return out[columns + (["enterprises"] if "enterprises" in out.columns else [])]
