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

This module parses, asks the app's :class:`citycarbon.services.monitoring.MonitoringService` (``app.state.monitoring``)
and renders. The service reads the registry of the store and the lake ``settings.lake_dir``; everything the pages
show is computed once per *data state* — the registry version (one indexed query) and the lake ledger's file
stamps, at most once a minute while only the lake keeps changing (``MonitoringService.min_refresh_seconds``) —
and filtered per caller (``visible_units``) before rendering, so a district user's HTML never holds another
district's units. "Now" for silence and lateness is the city's clock of
:func:`citycarbon.monitoring.clock.city_now`: the 90 % quantile of the units' latest reading ends, never after the
server's clock, so no single enterprise's clock moves it (pages of a demo lake stay meaningful); the page says so.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.auth.principal import Principal
from citycarbon.errors import Forbidden
from citycarbon.services.monitoring import City, MonitoringService, visible_units
from citycarbon.services.monitoring.city import SEVERITIES
from citycarbon.web.app import locale_of, render, web_state
from citycarbon.web.backend import current_session, web_principal
from citycarbon.web.i18n import DISPLAY_TZ, Formatter

router = APIRouter(include_in_schema=False)
log = logging.getLogger("citycarbon.web")

#: days of readings charted per point on a unit's page
CHART_DAYS = 7
#: latest alerts listed on the overview
ALERTS_SHOWN = 30
#: how canonical units of the registry read on a chart axis
UNIT_LABELS = {"m**3": "m³", "m^3": "m³"}


def monitoring_service(request: Request) -> MonitoringService:
    """The app's :class:`MonitoringService` (``app.state.monitoring``; created for an app built without it)."""
    state = request.app.state
    found = getattr(state, "monitoring", None)
    if found is None:
        web = web_state(request)
        found = state.monitoring = MonitoringService(web.settings, web.db())
    return found


# ------------------------------------------------------------------------------------------------- visibility

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
    from citycarbon.monitoring.quality import load_rules

    lang = "zh" if fmt.locale.startswith("zh") else "en"
    rule_names = {r["id"]: r[f"name_{lang}"] for r in load_rules().rules.values()}
    rows = []
    for a in frame.itertuples(index=False):
        numbers = a.numbers if isinstance(a.numbers, dict) else {}
        if isinstance(numbers.get("rules"), dict):  # quality rule ids → the rules' names
            numbers = {**numbers, "rules": {rule_names.get(k, k): v for k, v in numbers["rules"].items()}}
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
        return fmt.option(value)
    if isinstance(value, int | float):
        number = _number(value)
        return fmt.decimal(number, 3) if number is not None else "–"
    if isinstance(value, list | tuple | dict):
        return fmt.option(value)
    return fmt.text(value)


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


def unit_view(city: City, unit: pd.Series, fmt: Formatter, service: MonitoringService) -> dict:
    """One unit's points with a chart per point (latest :data:`CHART_DAYS` days), flags and alerts."""
    registry = city.registry
    lang = "zh" if fmt.locale.startswith("zh") else "en"
    enterprise_id = unit["enterprise_id"]
    points = registry.points[registry.points["enterprise_id"].astype(str) == enterprise_id]
    charts: dict[str, dict] = {}
    if city.has_readings:
        frame = service.recent_readings(city, enterprise_id, CHART_DAYS)
        local = frame["start"].dt.tz_convert(registry.timezone).dt.strftime("%m-%d %H:%M")
        frame = frame.assign(label=local)
        for point_id, rows in frame.groupby("point_id", sort=True):
            unit_name = str(rows["energy_unit"].iloc[0]) if len(rows) else ""
            unit_name = UNIT_LABELS.get(unit_name, unit_name)
            charts[str(point_id)] = {"type": "line", "categories": rows["label"].tolist(), "unit": unit_name,
                                     "series": [{"name": str(point_id),
                                                 "data": [None if pd.isna(v) else round(float(v), 4)
                                                          for v in rows["energy"]]}]}
    from citycarbon.monitoring.registry import energy_types

    types = energy_types().set_index("energy_type")[f"name_{lang}"]  # names of the metered energy types
    point_rows = [{"id": str(p.point_id), "chart_id": "point-" + _slug(str(p.point_id)),
                   "energy_type": types.get(p.energy_type, p.energy_type),
                   "unit": p.unit, "kind": p.kind, "interval": int(p.interval_minutes), "parent": p.parent_point_id,
                   "purpose": getattr(p, "purpose", ""), "chart": charts.get(str(p.point_id))}
                  for p in points.itertuples(index=False)]
    flags = city.flags[city.flags["enterprise_id"] == enterprise_id] if not city.flags.empty else city.flags
    from citycarbon.monitoring.quality import load_rules

    rule_names = {r["id"]: r[f"name_{lang}"] for r in load_rules().rules.values()}  # names of the quality rules
    flag_rows = [{"point": str(f.point_id), "start": _local(f.start), "rule": f.rule_id, "severity": f.severity,
                  "rule_name": rule_names.get(f.rule_id), "cls": _level_class(f.severity), "detail": f.detail,
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


def mine_view(city: City, principal: Principal, fmt: Formatter, service: MonitoringService, page: int = 1) -> dict:
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
    submissions, total, recorded = _submissions(service, enterprise_id, page, fmt, ledger_ids)
    if not batches.empty:
        batches = batches[~batches["batch_id"].astype(str).isin(recorded)].head(50)
    batch_rows = [{"id": b.batch_id, "client_id": b.client_batch_id or "", "at": fmt.datetime(b.committed_at),
                   "rows": int(b.rows_in), "accepted": int(b.accepted), "duplicate": int(b.duplicate),
                   "revised": int(b.revised), "rejected": int(b.rejected)} for b in batches.itertuples(index=False)]
    pages = max(1, -(-total // MINE_PAGE))
    return {"enterprise_id": enterprise_id, "submissions": submissions, "submissions_total": total,
            "page": page, "pages": pages, "shown_rejections": MINE_REJECTIONS_SHOWN, "batches": batch_rows,
            "tokens": _tokens(service, principal)}


def _submissions(service: MonitoringService, enterprise_id: str, page: int, fmt: Formatter,
                 ledger_ids: list[str]) -> tuple[list[dict], int, set[str]]:
    """A page of the enterprise's submissions with their first rejected rows, their total, and which of the
    ledger's batches ``ledger_ids`` have a submission record (the ledger list leaves those out)."""
    try:
        rows, total, shown, recorded = service.enterprise_submissions(
            enterprise_id, offset=(page - 1) * MINE_PAGE, limit=MINE_PAGE, first_rejections=MINE_REJECTIONS_SHOWN,
            ledger_ids=ledger_ids)
    except Exception:  # the page still shows points, ledger batches and tokens when the store is unavailable
        log.exception("listing the submissions of %s failed", enterprise_id)
        return [], 0, set()
    for row in rows:
        row["at"] = fmt.datetime(row["received_at"])
        row["rejections"] = shown.get(row["id"], [])
    return rows, total, recorded


def _tokens(service: MonitoringService, principal: Principal) -> list[dict]:
    try:
        return service.own_tokens(principal)
    except Exception:  # the page still shows points and batches when the store is unavailable
        log.exception("listing the ingest tokens of %s failed", principal.username)
        return []


# ----------------------------------------------------------------------------------------------------- routes

def monitoring_caller(principal: Principal = Depends(web_principal)) -> Principal:
    """The caller of a monitoring page: logged in (else the login redirect) and of a role that sees monitoring
    (else the 403 page)."""
    if not _can_see_monitoring(principal):
        raise Forbidden("监测页面不对此角色开放 / monitoring is not open to this role")
    return principal


def _city(request: Request) -> City:
    """The cached city; a failure to compute it is logged and answered with the designed server-error page."""
    try:
        return monitoring_service(request).city()
    except Exception:
        log.exception("monitoring page %s failed", request.url.path)
        raise HTTPException(500) from None


def _not_found(request: Request, session) -> Response:
    return render(request, "error.html", {"error_kind": "not_found"}, session=session, status_code=404)


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_overview(request: Request, by: str = "district", session=Depends(current_session),
                        principal: Principal = Depends(monitoring_caller)) -> Response:
    if principal.role == "enterprise":
        return RedirectResponse("/monitoring/mine", status_code=303)
    by = by if by in ("district", "industry") else "district"
    city = _city(request)
    fmt = Formatter(locale_of(request))
    units = visible_units(city, principal)
    if not city.has_registry:
        return render(request, "monitoring.html", {"view": None, "empty": "registry"}, session=session)
    key = ("overview", city.stamp, fmt.locale, by, tuple(sorted(units["enterprise_id"])))
    view = monitoring_service(request).view(key, lambda: overview_view(city, units, fmt, by))
    return render(request, "monitoring.html", {"view": view, "empty": None if city.has_readings else "lake"},
                  session=session)


@router.get("/monitoring/mine", response_class=HTMLResponse)
def monitoring_mine(request: Request, page: int = 1, session=Depends(current_session),
                    principal: Principal = Depends(monitoring_caller)) -> Response:
    if principal.role != "enterprise":
        return RedirectResponse("/monitoring", status_code=303)
    service = monitoring_service(request)
    city = _city(request)
    fmt = Formatter(locale_of(request))
    units = visible_units(city, principal)
    unit = None
    if not units.empty:
        first = units.iloc[0]
        unit = service.view(("unit", city.stamp, fmt.locale, first["enterprise_id"]),
                            lambda: unit_view(city, first, fmt, service))
    mine = mine_view(city, principal, fmt, service, page=min(max(page, 1), 1_000_000))
    return render(request, "monitoring_mine.html", {"unit": unit, "mine": mine, "has_registry": city.has_registry},
                  session=session)


@router.get("/monitoring/enterprises/{enterprise_id}", response_class=HTMLResponse)
def monitoring_unit(request: Request, enterprise_id: str, session=Depends(current_session),
                    principal: Principal = Depends(monitoring_caller)) -> Response:
    service = monitoring_service(request)
    city = _city(request)
    units = visible_units(city, principal)
    match = units[units["enterprise_id"] == enterprise_id] if not units.empty else units
    if match.empty:  # absent, or not the caller's: the same answer
        return _not_found(request, session)
    fmt = Formatter(locale_of(request))
    key = ("unit", city.stamp, fmt.locale, enterprise_id)
    view = service.view(key, lambda: unit_view(city, match.iloc[0], fmt, service))
    return render(request, "monitoring_enterprise.html", {"unit": view}, session=session)
