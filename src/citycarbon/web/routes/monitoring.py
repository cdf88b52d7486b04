"""Online-monitoring pages (能耗在线监测): the city's key energy-using units, one unit's meters, an enterprise's own.

* ``/monitoring`` (admin, analyst: every unit; district users: the units of their regions): per unit its tier,
  industry, district, the national quality indicators of the latest day with data (completeness ≥ 90 %,
  timeliness, open findings by severity), its budget position (energy to date against the pro-rata annual
  budget), the latest alerts with their numbers, and monthly energy and CO2 by district or industry.
* ``/monitoring/enterprises/{id}``: its metering points, a reading chart per point (the latest days in the lake),
  quality flags and alerts. A unit the caller may not see answers 404, like a unit that does not exist.
* ``/monitoring/mine`` (enterprise users; ``/monitoring`` sends them there): their points, their submissions
  (every batch sent over HTTP or MQTT as the store records it, ``store/monitoring_submissions.py``: counts,
  outcome, the first rejected rows with their reasons; 20 a page), the lake batches without such a record (counts
  from the ingest ledger) and their ingest tokens.

Data: the registry of the store (``citycarbon.store.monitoring_registry``, written by ``citycarbon monitoring
registry import``) and the lake ``settings.lake_dir``. Everything the pages show is computed once per *data
state* — the registry version (one indexed query) and the lake ledger's file stamps (``ledger.sqlite`` and its
WAL), at most once a minute while only the lake keeps changing (:data:`MIN_REFRESH_SECONDS`) — and filtered per
caller before rendering, so a district user's HTML never holds another district's units. "Now" for silence and
lateness is the end of the latest reading in the lake (pages of a demo lake stay meaningful); the page says so.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.auth.principal import Principal
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import DISPLAY_TZ, Formatter

router = APIRouter(include_in_schema=False)
log = logging.getLogger("citycarbon.web")

#: days of readings charted per point on a unit's page
CHART_DAYS = 7
#: latest alerts listed on the overview
ALERTS_SHOWN = 30
SEVERITIES = ("error", "warning", "info")
#: how canonical units of the registry read on a chart axis
UNIT_LABELS = {"m**3": "m³", "m^3": "m³"}
_LOCK = Lock()
_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_CACHE_SIZE = 16


# --------------------------------------------------------------------------------------------- data sources

_DATABASES: dict[str, Any] = {}


def _database(settings, db=None):
    """The store the registry is read from: the app's ``db`` when given, else one per database URL."""
    if db is not None:
        return db
    from citycarbon.store.db import Database

    with _LOCK:
        if settings.database_url not in _DATABASES:
            _DATABASES[settings.database_url] = Database(settings)
        return _DATABASES[settings.database_url]


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def data_state(settings, db=None) -> tuple:
    """What the pages' content depends on: ``(store, registry version, lake, ledger stamps)`` — one indexed query
    for the registry version, file stamps for the lake ledger."""
    from citycarbon.monitoring.lake import Lake
    from citycarbon.store.monitoring_registry import registry_version

    db = _database(settings, db)
    lake = Path(settings.lake_dir)
    ledger = Lake.for_settings(settings).version() if settings.lake_ledger_url else \
        (_stamp(lake / "ledger.sqlite"), _stamp(lake / "ledger.sqlite-wal"))  # no query for the embedded default
    return (db.key, registry_version(db), str(lake), ledger)


def _memo(key: tuple, build):
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = build()
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


@dataclass
class City:
    """The monitoring state of the whole city (all units), computed once per data state."""

    registry: Any = None
    lake: Any = None
    day: str | None = None            #: latest local day with readings
    as_of: pd.Timestamp | None = None  #: end of the latest reading (UTC): "now" of silence and lateness
    units: pd.DataFrame = field(default_factory=pd.DataFrame)   #: one row per enterprise
    monthly: pd.DataFrame = field(default_factory=pd.DataFrame)  #: enterprise, month, tce, co2_t
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)
    flags: pd.DataFrame = field(default_factory=pd.DataFrame)    #: flags of ``day``
    batches: pd.DataFrame = field(default_factory=pd.DataFrame)
    stamp: tuple = ()                 #: the data state it was computed from (key of the page views)

    @property
    def has_registry(self) -> bool:
        return self.registry is not None

    @property
    def has_readings(self) -> bool:
        return self.day is not None


#: a lake that keeps changing (meters posting every few seconds) is recomputed at most this often, in a background
#: thread while the pages keep showing the previous state ("as of" says which); a changed registry, another lake,
#: the first readings and the first request are computed at once
MIN_REFRESH_SECONDS = 60.0
BACKGROUND_REFRESH = True
_CITIES: dict[tuple, tuple[tuple, float, City]] = {}
_REFRESHING: dict[tuple, threading.Thread] = {}


def load_city(settings, db=None) -> City:
    """The cached :class:`City` of the store's registry and ``settings``' lake (see :data:`MIN_REFRESH_SECONDS`);
    ``db`` is the app's store (default: the database of ``settings``)."""
    db = _database(settings, db)
    state = data_state(settings, db)
    where, registry_state = (state[0], state[2]), state[:2]
    with _LOCK:
        cached = _CITIES.get(where)
    if cached is not None:
        stamp, built, city = cached
        if stamp == state:
            return city
        if stamp[:2] == registry_state:  # only the lake changed
            if time.monotonic() - built < MIN_REFRESH_SECONDS:
                return city
            if BACKGROUND_REFRESH and city.has_readings:
                _refresh_in_background(settings, where, db)
                return city
    return _compute(settings, where, db)


def _compute(settings, where: tuple, db) -> City:
    state = data_state(settings, db)  # taken before reading: a change committed meanwhile triggers the next refresh
    city = _build_city(settings, db)
    city.stamp = state
    with _LOCK:
        _CITIES[where] = (state, time.monotonic(), city)
    return city


def _refresh_in_background(settings, where: tuple, db) -> None:
    with _LOCK:
        running = _REFRESHING.get(where)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(target=_refresh, args=(settings, where, db), name="monitoring-refresh", daemon=True)
        _REFRESHING[where] = thread
    thread.start()


def _refresh(settings, where: tuple, db) -> None:
    try:
        _compute(settings, where, db)
    except Exception:  # the pages keep the previous state; the next request after the interval tries again
        log.exception("refreshing the monitoring state of %s failed", where[1])
        with _LOCK:
            stamp, _built, city = _CITIES[where]
            _CITIES[where] = (stamp, time.monotonic(), city)


def wait_for_refresh(timeout: float | None = None) -> None:
    """Wait for background refreshes (tests, benchmarks)."""
    with _LOCK:
        threads = list(_REFRESHING.values())
    for thread in threads:
        thread.join(timeout)


def _build_city(settings, db=None) -> City:
    from citycarbon.monitoring.lake import Lake
    from citycarbon.store.monitoring_registry import current_registry

    _version, registry = current_registry(_database(settings, db))
    if registry is None:
        return City()
    if not Lake.present(settings):
        return City(registry=registry, units=_unit_rows(registry))
    lake = Lake.for_settings(settings)
    parts = lake.parts(enterprises=registry.enterprises["enterprise_id"].astype(str))
    ends = [p.max_end for p in parts if p.max_end]
    city = City(registry=registry, lake=lake, batches=lake.batches())
    if not ends:
        city.units = _unit_rows(registry)
        return city
    as_of = pd.Timestamp(max(ends))
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    city.as_of = as_of
    city.day = (as_of - pd.Timedelta(seconds=1)).tz_convert(registry.timezone).strftime("%Y-%m-%d")
    _fill(city)
    return city


def _daily_since(lake, registry, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """Energy per point and local day in ``[lo, hi)`` as :func:`quality.daily_energy`'s frame, from the lake's
    DuckDB scan (stage 1 of ``rollup``; latest revisions) with the GB/T 2589-2020 tce rows of
    ``registry.tce_factors`` (the calorific method of the budget alerts). The full ``rollup(period="day",
    by="point")`` attributes every factor set per group and costs seconds per month of a 500-point city."""
    from citycarbon.monitoring import quality
    from citycarbon.monitoring.registry import energy_types, tce_factors
    from citycarbon.monitoring.rollup import scan_duckdb

    ids = sorted(registry.enterprises["enterprise_id"].astype(str))
    scanned = scan_duckdb(lake, period="day", timezone=registry.timezone, enterprises=ids, start=lo, end=hi)
    points = registry.points.set_index("point_id")
    scanned = scanned[scanned["point_id"].astype(str).isin(points.index)]
    if scanned.empty:
        return quality.daily_energy(pd.DataFrame({"point_id": [], "start": [], "end": [], "value": [],
                                                  "unit": []}), registry)
    ids = scanned["point_id"].astype(str)
    energy_type = ids.map(points["energy_type"])
    energy = scanned["energy"].astype(float).where(pd.to_numeric(scanned["energy_n"]) > 0)
    return pd.DataFrame({
        "point_id": ids.to_numpy(), "enterprise_id": ids.map(points["enterprise_id"]).astype(str).to_numpy(),
        "energy_type": energy_type.to_numpy(), "parent_point_id": ids.map(points["parent_point_id"]).to_numpy(),
        "day": pd.to_datetime(scanned["period"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "energy_unit": energy_type.map(energy_types()["canonical_unit"]).to_numpy(),
        "energy": energy.to_numpy(),
        "energy_tce": (energy * energy_type.map(tce_factors()["tce_per_unit"]).astype(float).to_numpy()).to_numpy(),
        "slots": pd.to_numeric(scanned["readings"]).astype("int64").to_numpy(), "repaired": 0})


def _unit_rows(registry) -> pd.DataFrame:
    from citycarbon.monitoring.registry import industries

    units = registry.enterprises.copy()
    units["enterprise_id"] = units["enterprise_id"].astype(str)
    units["region"] = units["region"].astype(str)
    units["industry_code"] = units["industry_code"].astype(str)
    names = industries()
    for lang in ("zh", "en"):
        column = f"name_{lang}" if f"name_{lang}" in names.columns else None
        units[f"industry_{lang}"] = units["industry_code"].map(names[column]) if column else units["industry_code"]
        units[f"industry_{lang}"] = units[f"industry_{lang}"].fillna(units["industry_code"])
    regions = _regions()
    for lang in ("zh", "en"):
        units[f"district_{lang}"] = units["region"].map(regions[f"name_{lang}"]).fillna(units["region"])
    points = registry.points.groupby("enterprise_id").size()
    units["points"] = units["enterprise_id"].map(points).fillna(0).astype(int)
    for column in ("completeness", "timeliness", "cumulative_tce", "path_tce", "ahead_share"):
        units[column] = math.nan
    for severity in SEVERITIES:
        units[f"open_{severity}"] = 0
    units["alerts"] = 0
    return units


def _regions() -> pd.DataFrame:
    from citycarbon.data import read_csv

    return read_csv("codelists/regions.csv", dtype={"code": str}).set_index("code")


def _fill(city: City) -> None:
    """Indicators, flags, budget position, alerts and monthly totals of the latest day (all units)."""
    from citycarbon.monitoring import alerts as alerting
    from citycarbon.monitoring import quality
    from citycarbon.monitoring.lake import read_readings
    from citycarbon.monitoring.registry import energy_types
    from citycarbon.monitoring.rollup import rollup

    registry, lake, day = city.registry, city.lake, city.day
    tz = registry.timezone
    units = _unit_rows(registry)
    day_start = pd.Timestamp(day).tz_localize(tz)
    lo, hi = day_start.tz_convert("UTC"), (day_start + pd.Timedelta(days=1)).tz_convert("UTC")
    now = city.as_of
    known = set(registry.points["point_id"].astype(str))
    readings = read_readings(lake, start=lo - pd.Timedelta(days=1), end=hi, latest_revision_only=False,
                             columns=("point_id", "start", "end", "value_raw", "unit_raw", "revision", "received_at"))
    readings = readings[readings["point_id"].astype(str).isin(known)].reset_index(drop=True)
    flags = quality.check(readings, registry, now=now, start=lo, end=min(hi, now))
    flags = flags[(flags["start"] >= lo) & (flags["start"] < hi)].reset_index(drop=True)
    owner = registry.points.set_index("point_id")["enterprise_id"].astype(str)
    flags = flags.assign(enterprise_id=flags["point_id"].astype(str).map(owner))
    indicators = quality.national_indicators(readings, registry, day, now=now)
    ind = indicators.set_index("enterprise_id")
    units["completeness"] = units["enterprise_id"].map(ind["completeness"]).astype(float)
    units["timeliness"] = units["enterprise_id"].map(ind["timeliness"]).astype(float)
    counts = flags.groupby(["enterprise_id", "severity"]).size()
    for severity in SEVERITIES:
        per = counts.xs(severity, level="severity") if severity in counts.index.get_level_values(1) else pd.Series()
        units[f"open_{severity}"] = units["enterprise_id"].map(per).fillna(0).astype(int)

    # budget position: energy of main energy meters since 1 January (calorific tce) against the pro-rata budget
    year_start = pd.Timestamp(year=day_start.year, month=1, day=1)
    daily = _daily_since(lake, registry, year_start.tz_localize(tz).tz_convert("UTC"), hi)
    is_energy = registry.points["energy_type"].map(energy_types()["is_energy"]).fillna(False).astype(bool)
    mains = set(registry.points.loc[(registry.points["parent_point_id"] == "") & is_energy, "point_id"].astype(str))
    ytd = daily[daily["point_id"].astype(str).isin(mains)].groupby("enterprise_id")["energy_tce"].sum()
    elapsed = (pd.Timestamp(day) - year_start).days + 1
    share = elapsed / pd.Timestamp(year=day_start.year, month=12, day=31).day_of_year
    budget = pd.to_numeric(units["annual_budget_tce"], errors="coerce")
    same_year = pd.to_numeric(units["budget_year"], errors="coerce") == day_start.year
    units["cumulative_tce"] = units["enterprise_id"].map(ytd).astype(float)
    units["path_tce"] = (budget * share).where(same_year)
    units["ahead_share"] = units["cumulative_tce"] / units["path_tce"].where(units["path_tce"] > 0) - 1

    found = [alerting.budget_alerts(daily, registry, date=day), alerting.product_alerts(daily, registry, date=day),
             alerting.quality_alerts(readings, registry, date=day, now=now, flags=flags[list(quality.FLAG_COLUMNS)],
                                     indicators=indicators)]
    found = [f for f in found if not f.empty]
    city.alerts = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=list(alerting.ALERT_COLUMNS))
    city.alerts["enterprise_id"] = city.alerts["enterprise_id"].astype(str)
    per_unit = city.alerts.groupby("enterprise_id").size()
    units["alerts"] = units["enterprise_id"].map(per_unit).fillna(0).astype(int)

    monthly = rollup(lake, registry, period="month", by="enterprise").frame
    energy = monthly["energy_type"].map(energy_types()["is_energy"]).fillna(False).astype(bool)
    monthly = monthly.assign(tce=monthly["tce_calorific"].where(energy, 0.0))
    city.monthly = monthly.groupby(["enterprise_id", "period"], as_index=False)[["tce", "co2_t"]].sum()
    city.units = units
    city.flags = flags


# ------------------------------------------------------------------------------------------------- visibility

def visible_units(city: City, principal: Principal) -> pd.DataFrame:
    """The units ``principal`` may see (district users: their regions; enterprise users: their own)."""
    units = city.units
    if units.empty:
        return units
    allowed = [principal.can_read_enterprise(e, r) for e, r in zip(units["enterprise_id"], units["region"],
                                                                   strict=True)]
    return units[allowed]


def _can_see_monitoring(principal: Principal) -> bool:
    return principal.role in ("admin", "analyst", "district", "enterprise")


# ------------------------------------------------------------------------------------------------------ views

def _level_class(level: str) -> str:
    return {"error": "warn-red", "warning": "warn-yellow"}.get(str(level), "warn-none")


def _alert_rows(frame: pd.DataFrame, names: dict[str, str], fmt: Formatter, limit: int) -> list[dict]:
    if frame.empty:
        return []
    order = {"error": 0, "warning": 1}
    frame = frame.assign(_o=frame["level"].map(order).fillna(2)).sort_values(
        ["_o", "period_end", "enterprise_id"], ascending=[True, False, True], kind="stable").head(limit)
    rows = []
    for a in frame.itertuples(index=False):
        numbers = a.numbers if isinstance(a.numbers, dict) else {}
        rows.append({"kind": a.kind, "level": a.level, "cls": _level_class(a.level), "enterprise_id": a.enterprise_id,
                     "name": names.get(a.enterprise_id, a.enterprise_id), "subject": a.subject,
                     "period": f"{str(a.period_start)[:10]} – {str(a.period_end)[:10]}", "message": a.message,
                     "value": fmt.decimal(_number(a.value), 2), "threshold": fmt.decimal(_number(a.threshold), 2),
                     "unit": a.unit, "numbers": [(k, _show(v, fmt)) for k, v in numbers.items()]})
    return rows


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _show(value: object, fmt: Formatter) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        number = _number(value)
        return fmt.decimal(number, 3) if number is not None else "–"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _quality_status(row: Any, fmt: Formatter) -> dict:
    completeness = _number(row.completeness)
    return {"completeness": fmt.percent(completeness), "completeness_ok": completeness is not None and
            completeness >= 0.9 - 1e-12, "timeliness": fmt.percent(_number(row.timeliness)),
            "open": {s: int(getattr(row, f"open_{s}")) for s in SEVERITIES}}


def _budget(row: Any, fmt: Formatter) -> dict:
    ahead = _number(row.ahead_share)
    cls = "warn-none" if ahead is None else "warn-red" if ahead > 0.1 else "warn-yellow" if ahead > 0 else "warn-green"
    return {"cumulative": fmt.decimal(_number(row.cumulative_tce), 1), "path": fmt.decimal(_number(row.path_tce), 1),
            "ahead": fmt.percent(ahead) if ahead is None or ahead <= 0 else "+" + fmt.percent(ahead), "cls": cls}


def overview_view(city: City, units: pd.DataFrame, fmt: Formatter, by: str) -> dict:
    zh = fmt.locale.startswith("zh")
    lang = "zh" if zh else "en"
    rows = []
    for row in units.sort_values(["tier", "region", "enterprise_id"], kind="stable").itertuples(index=False):
        rows.append({"id": row.enterprise_id, "name": row.name, "tier": row.tier,
                     "industry": getattr(row, f"industry_{lang}"), "district": getattr(row, f"district_{lang}"),
                     "points": row.points, "quality": _quality_status(row, fmt), "budget": _budget(row, fmt),
                     "alerts": row.alerts})
    ids = set(units["enterprise_id"])
    names = dict(zip(units["enterprise_id"], units["name"], strict=True))
    alerts = city.alerts[city.alerts["enterprise_id"].isin(ids)] if not city.alerts.empty else city.alerts
    charts = _group_charts(city, units, by, lang) if city.has_readings else None
    ok = sum(1 for r in rows if r["quality"]["completeness_ok"])
    return {"units": rows, "alerts": _alert_rows(alerts, names, fmt, ALERTS_SHOWN), "alerts_total": len(alerts),
            "charts": charts, "by": by, "day": city.day, "as_of": _local(city.as_of), "complete_units": ok,
            "kpis": {"units": len(rows), "complete": ok, "alerts": len(alerts),
                     "errors": sum(r["quality"]["open"]["error"] for r in rows)}}


def _local(ts: pd.Timestamp | None) -> str:
    return ts.tz_convert(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M") if ts is not None else "–"


def _group_charts(city: City, units: pd.DataFrame, by: str, lang: str) -> dict:
    key = "region" if by == "district" else "industry_code"
    label = f"district_{lang}" if by == "district" else f"industry_{lang}"
    monthly = city.monthly[city.monthly["enterprise_id"].isin(set(units["enterprise_id"]))]
    group = units.set_index("enterprise_id")[key]
    labels = units.drop_duplicates(key).set_index(key)[label]
    monthly = monthly.assign(group=monthly["enterprise_id"].map(group))
    table = monthly.groupby(["period", "group"], as_index=False)[["tce", "co2_t"]].sum()
    months = sorted(table["period"].astype(str).unique())
    groups = sorted(table["group"].unique())

    def spec(column: str, unit: str) -> dict:
        pivot = table.pivot(index="period", columns="group", values=column).reindex(months).fillna(0.0)
        return {"type": "stacked", "categories": months, "unit": unit,
                "series": [{"name": str(labels.get(g, g)), "data": [round(float(v), 2) for v in pivot[g]]}
                           for g in groups]}

    return {"energy": spec("tce", "tce"), "co2": spec("co2_t", "t CO₂")}


def unit_view(city: City, unit: pd.Series, fmt: Formatter, settings) -> dict:
    """One unit's points with a chart per point (latest :data:`CHART_DAYS` days), flags and alerts."""
    from citycarbon.monitoring.lake import read_readings

    registry = city.registry
    lang = "zh" if fmt.locale.startswith("zh") else "en"
    enterprise_id = unit["enterprise_id"]
    points = registry.points[registry.points["enterprise_id"].astype(str) == enterprise_id]
    charts: dict[str, dict] = {}
    if city.has_readings:
        end = city.as_of
        frame = read_readings(city.lake, enterprise=enterprise_id, start=end - pd.Timedelta(days=CHART_DAYS), end=end,
                              columns=("point_id", "start", "end", "energy", "energy_unit"))
        local = frame["start"].dt.tz_convert(registry.timezone).dt.strftime("%m-%d %H:%M")
        frame = frame.assign(label=local)
        for point_id, rows in frame.groupby("point_id", sort=True):
            unit_name = str(rows["energy_unit"].iloc[0]) if len(rows) else ""
            unit_name = UNIT_LABELS.get(unit_name, unit_name)
            charts[str(point_id)] = {"type": "line", "categories": rows["label"].tolist(), "unit": unit_name,
                                     "series": [{"name": str(point_id),
                                                 "data": [None if pd.isna(v) else round(float(v), 4)
                                                          for v in rows["energy"]]}]}
    point_rows = [{"id": str(p.point_id), "chart_id": "point-" + _slug(str(p.point_id)), "energy_type": p.energy_type,
                   "unit": p.unit, "kind": p.kind, "interval": int(p.interval_minutes), "parent": p.parent_point_id,
                   "purpose": getattr(p, "purpose", ""), "chart": charts.get(str(p.point_id))}
                  for p in points.itertuples(index=False)]
    flags = city.flags[city.flags["enterprise_id"] == enterprise_id] if not city.flags.empty else city.flags
    flag_rows = [{"point": str(f.point_id), "start": _local(f.start), "rule": f.rule_id, "severity": f.severity,
                  "cls": _level_class(f.severity), "detail": f.detail,
                  "suggested": "" if pd.isna(f.suggested_value) else fmt.decimal(float(f.suggested_value), 3)
                  + " " + str(f.suggested_unit), "method": f.method} for f in flags.head(200).itertuples(index=False)]
    alerts = city.alerts[city.alerts["enterprise_id"] == enterprise_id] if not city.alerts.empty else city.alerts
    row = next(city.units[city.units["enterprise_id"] == enterprise_id].itertuples(index=False))
    return {"id": enterprise_id, "name": unit["name"], "uscc": unit.get("uscc", ""), "tier": unit["tier"],
            "industry": unit[f"industry_{lang}"], "district": unit[f"district_{lang}"], "points": point_rows,
            "flags": flag_rows, "flags_total": len(flags), "quality": _quality_status(row, fmt),
            "budget": _budget(row, fmt), "alerts": _alert_rows(alerts, {enterprise_id: unit["name"]}, fmt, 100),
            "day": city.day, "as_of": _local(city.as_of), "chart_days": CHART_DAYS}


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


#: submissions per page of "my submissions", and the rejected rows shown under each (the API pages the rest)
MINE_PAGE = 20
MINE_REJECTIONS_SHOWN = 20


def mine_view(city: City, principal: Principal, fmt: Formatter, db, page: int = 1) -> dict:
    """An enterprise user's submissions (every batch of readings it sent over HTTP or MQTT, newest first, a page
    of :data:`MINE_PAGE`, each with its first rejected rows), the lake batches of its enterprise that have no
    submission record (counts only: stored before submissions were recorded), and its API tokens."""
    enterprise_id = str(principal.enterprise_id or "")
    page = max(1, page)
    batches = city.batches
    if not batches.empty:
        batches = batches[batches["enterprise_id"].astype(str) == enterprise_id].sort_values(
            "committed_at", ascending=False).head(200)
    ledger_ids = [] if batches.empty else batches["batch_id"].astype(str).tolist()
    submissions, total, recorded = _submissions(db, enterprise_id, page, fmt, ledger_ids)
    if not batches.empty:
        batches = batches[~batches["batch_id"].astype(str).isin(recorded)].head(50)
    batch_rows = [{"id": b.batch_id, "client_id": b.client_batch_id or "", "at": fmt.datetime(b.committed_at),
                   "rows": int(b.rows_in), "accepted": int(b.accepted), "duplicate": int(b.duplicate),
                   "revised": int(b.revised), "rejected": int(b.rejected)} for b in batches.itertuples(index=False)]
    pages = max(1, -(-total // MINE_PAGE))
    return {"enterprise_id": enterprise_id, "submissions": submissions, "submissions_total": total,
            "page": page, "pages": pages, "shown_rejections": MINE_REJECTIONS_SHOWN, "batches": batch_rows,
            "tokens": _tokens(db, principal)}


def _submissions(db, enterprise_id: str, page: int, fmt: Formatter,
                 ledger_ids: list[str]) -> tuple[list[dict], int, set[str]]:
    """A page of the enterprise's submissions with their first rejected rows, their total, and which of the
    ledger's batches ``ledger_ids`` have a submission record (the ledger list leaves those out)."""
    from citycarbon.store.monitoring_submissions import (
        list_submissions,
        recorded_lake_batches,
        rejections_by_submission,
    )

    try:
        with db.session() as session:
            rows, total = list_submissions(session, enterprise_ids={enterprise_id}, limit=MINE_PAGE,
                                           offset=(page - 1) * MINE_PAGE)
            shown = rejections_by_submission(session, [r["id"] for r in rows], first=MINE_REJECTIONS_SHOWN)
            recorded = recorded_lake_batches(session, ledger_ids)
    except Exception:  # the page still shows points, ledger batches and tokens when the store is unavailable
        log.exception("listing the submissions of %s failed", enterprise_id)
        return [], 0, set()
    for row in rows:
        row["at"] = fmt.datetime(row["received_at"])
        row["rejections"] = shown.get(row["id"], [])
    return rows, total, recorded


def _tokens(db, principal: Principal) -> list[dict]:
    from citycarbon.services import users

    try:
        return [token.as_dict() for token in users.list_tokens(db, principal)]
    except Exception:  # the page still shows points and batches when the store is unavailable
        log.exception("listing the ingest tokens of %s failed", principal.username)
        return []


# ----------------------------------------------------------------------------------------------------- routes

def _caller(request: Request, session) -> tuple[Principal | None, Response | None]:
    principal = getattr(session, "principal", None)
    if principal is None:
        pending = session is not None and getattr(session, "challenge", None) is not None
        return None, login_redirect(request, "/login/step" if pending else None)
    if not _can_see_monitoring(principal):
        return None, render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    return principal, None


def _city(request: Request, session) -> tuple[City | None, Response | None]:
    """The cached city, or the designed server-error page (logged) when it cannot be computed."""
    try:
        state = web_state(request)
        return load_city(state.settings, state.db()), None
    except Exception:
        log.exception("monitoring page %s failed", request.url.path)
        return None, render(request, "error.html", {"error_kind": "server", "now": datetime.now(UTC)},
                            session=session, status_code=500)


def _not_found(request: Request, session) -> Response:
    return render(request, "error.html", {"error_kind": "not_found"}, session=session, status_code=404)


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_overview(request: Request, by: str = "district", session=Depends(current_session)) -> Response:
    principal, refusal = _caller(request, session)
    if refusal is not None:
        return refusal
    assert principal is not None
    if principal.role == "enterprise":
        return RedirectResponse("/monitoring/mine", status_code=303)
    by = by if by in ("district", "industry") else "district"
    city, failure = _city(request, session)
    if failure is not None:
        return failure
    assert city is not None
    fmt = Formatter(locale_of(request))
    units = visible_units(city, principal)
    if not city.has_registry:
        return render(request, "monitoring.html", {"view": None, "empty": "registry"}, session=session)
    key = ("overview", city.stamp, fmt.locale, by, tuple(sorted(units["enterprise_id"])))
    view = _memo(key, lambda: overview_view(city, units, fmt, by))
    return render(request, "monitoring.html", {"view": view, "empty": None if city.has_readings else "lake"},
                  session=session)


@router.get("/monitoring/mine", response_class=HTMLResponse)
def monitoring_mine(request: Request, page: int = 1, session=Depends(current_session)) -> Response:
    principal, refusal = _caller(request, session)
    if refusal is not None:
        return refusal
    assert principal is not None
    if principal.role != "enterprise":
        return RedirectResponse("/monitoring", status_code=303)
    state = web_state(request)
    city, failure = _city(request, session)
    if failure is not None:
        return failure
    assert city is not None
    fmt = Formatter(locale_of(request))
    units = visible_units(city, principal)
    unit = None
    if not units.empty:
        first = units.iloc[0]
        unit = _memo(("unit", city.stamp, fmt.locale, first["enterprise_id"]),
                     lambda: unit_view(city, first, fmt, state.settings))
    mine = mine_view(city, principal, fmt, state.db(), page=min(max(page, 1), 1_000_000))
    return render(request, "monitoring_mine.html", {"unit": unit, "mine": mine, "has_registry": city.has_registry},
                  session=session)


@router.get("/monitoring/enterprises/{enterprise_id}", response_class=HTMLResponse)
def monitoring_unit(request: Request, enterprise_id: str, session=Depends(current_session)) -> Response:
    principal, refusal = _caller(request, session)
    if refusal is not None:
        return refusal
    assert principal is not None
    state = web_state(request)
    city, failure = _city(request, session)
    if failure is not None:
        return failure
    assert city is not None
    units = visible_units(city, principal)
    match = units[units["enterprise_id"] == enterprise_id] if not units.empty else units
    if match.empty:  # absent, or not the caller's: the same answer
        return _not_found(request, session)
    fmt = Formatter(locale_of(request))
    key = ("unit", city.stamp, fmt.locale, enterprise_id)
    view = _memo(key, lambda: unit_view(city, match.iloc[0], fmt, state.settings))
    return render(request, "monitoring_enterprise.html", {"unit": view}, session=session)
