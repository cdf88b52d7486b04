"""The monitoring state of the whole city, computed once per data state and filtered per caller.

Per unit: tier, industry, district, the national quality indicators of the latest day with data (completeness,
timeliness, open findings by severity), the budget position (energy to date against the pro-rata annual budget),
the alerts with their numbers, and monthly energy and CO2. "Now" for silence and lateness is the city's clock of
:func:`citycarbon.monitoring.clock.city_now` (a quantile of the units' latest reading ends, never after the
server's clock), so no single enterprise's clock moves it and a demo lake keeps its own "now".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from citycarbon.auth.principal import Principal
from citycarbon.monitoring.clock import city_now

__all__ = ["SEVERITIES", "City", "build_city", "daily_since", "visible_units"]

SEVERITIES = ("error", "warning", "info")


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
    stamp: tuple[Any, ...] = ()                 #: the data state it was computed from (key of the page views)
    code: str | None = None                     #: the city (plan code) monitored; callers of other cities are refused

    @property
    def has_registry(self) -> bool:
        return self.registry is not None

    @property
    def has_readings(self) -> bool:
        return self.day is not None


def build_city(registry: Any, lake: Any, *, server_now: datetime | pd.Timestamp | None = None) -> City:
    """The monitoring state of the city: ``registry`` (None: no registry yet), ``lake`` (None: no lake yet) and
    the server's clock (default: now), which caps the city's "now" (:func:`citycarbon.monitoring.clock.city_now`)."""
    if registry is None:
        return City()
    if lake is None:
        return City(registry=registry, units=_unit_rows(registry))
    parts = lake.parts(enterprises=registry.enterprises["enterprise_id"].astype(str))
    latest: dict[str, str] = {}
    for p in parts:
        if p.max_end and p.max_end > latest.get(p.enterprise_id, ""):  # one ISO format in UTC: text order is time
            latest[p.enterprise_id] = p.max_end
    city = City(registry=registry, lake=lake, batches=lake.batches())
    as_of = city_now(latest.values(), server_now if server_now is not None else datetime.now(UTC))
    if as_of is None:
        city.units = _unit_rows(registry)
        return city
    city.as_of = as_of
    city.day = (as_of - pd.Timedelta(seconds=1)).tz_convert(registry.timezone).strftime("%Y-%m-%d")
    _fill(city)
    return city


def daily_since(lake: Any, registry: Any, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
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


def _unit_rows(registry: Any) -> pd.DataFrame:
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
    if day is None:  # called only for a city with readings
        raise ValueError("the city has no readings to fill in")
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
    daily = daily_since(lake, registry, year_start.tz_localize(tz).tz_convert("UTC"), hi)
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


def visible_units(city: City, principal: Principal) -> pd.DataFrame:
    """The units ``principal`` may see (district users: their regions; enterprise users: their own); a caller
    scoped to another city than ``city.code`` is refused (:class:`~citycarbon.errors.Forbidden`)."""
    if city.code is not None and not principal.can_access_city(city.code):
        from citycarbon.services.cities import require_city

        require_city(principal, city.code)
    units = city.units
    if units.empty:
        return units
    allowed = [principal.can_read_enterprise(e, r) for e, r in zip(units["enterprise_id"], units["region"],
                                                                   strict=True)]
    return units[allowed]
