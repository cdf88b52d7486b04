"""View models of the cockpit pages: service results → what a template shows (formatted, role-filtered).

Each ``*_view`` function takes a :class:`~citycarbon.web.data.Snapshot` of the data, the caller's
:class:`~citycarbon.auth.principal.Principal` and a :class:`~citycarbon.web.i18n.Formatter`, and returns a dict
for the template. Role filtering happens here, before anything reaches HTML: a district user's view holds
only its own districts, a viewer's or an enterprise's only the public city aggregates.

Charts are described by small JSON specs (``{"type", "categories", "series", "unit", ...}``) embedded in the
page as ``<script type="application/json">`` and drawn by ``static/js/charts.js`` with ECharts.
"""

from __future__ import annotations

import math
from typing import Any

from citycarbon.accounting.shares import fuel_group_shares
from citycarbon.auth.principal import Principal
from citycarbon.codelists import load_codelist
from citycarbon.plan import indicator_table
from citycarbon.tracking.progress import describe_target
from citycarbon.web import flow_views
from citycarbon.web.data import Snapshot
from citycarbon.web.i18n import Formatter

#: tracking's colour names → CSS classes (tracking defines which level has which colour)
COLOUR_CLASSES = {"red": "warn-red", "orange": "warn-orange", "yellow": "warn-yellow", "green": "warn-green"}

#: display scale of a unit in charts: (factor, unit key of Formatter.units / shown as is)
_CHART_SCALE = {"tce": 1e-4, "t": 1e-4, "m**3": 1e-4, "dimensionless": 100.0, "10^4 CNY": 1e-4}


def _zh(fmt: Formatter) -> bool:
    return fmt.locale.startswith("zh")


def _name(fmt: Formatter, zh: str | None, en: str | None) -> str:
    return (zh or en or "") if _zh(fmt) else (en or zh or "")


def chart_unit(fmt: Formatter, unit: str) -> str:
    if unit in ("dimensionless", "1", ""):
        return "%"
    return fmt.units.get(unit, unit)


def scale(value: float | None, unit: str, digits: int = 3) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value) * _CHART_SCALE.get(unit, 1.0), digits)


def indicator_name(fmt: Formatter, indicator: str) -> str:
    """The indicator's name: the indicator codelist (``data/codelists/indicators.csv``), else the catalogs'
    ``indicator`` label (the accounting engine's own quantities, such as ``feedstock_tce``)."""
    table = indicator_table()
    if indicator in table.index:
        row = table.loc[indicator]
        return _name(fmt, str(row["name_zh"]), str(row["name_en"]))
    return fmt.label("indicator", indicator)


def fuel_name(fmt: Formatter, key: str) -> str:
    """A fuel or product key: the fuel codelist (``data/codelists/fuels.csv``), else the ``factor-key`` label."""
    table = load_codelist("fuels")
    if key in table.index:
        return _name(fmt, str(table.loc[key, "name_zh"]), str(table.loc[key, "name_en"]))
    return fmt.label("factor-key", key)


# -- targets ---------------------------------------------------------------------------------------------

def _target_row(source: Snapshot, row: dict, fmt: Formatter) -> dict:
    """One tracked target, formatted, with its sparkline (history of the tracked series + projection)."""
    data = source.city_data()
    target = next(t for t in data.plan.targets if t.id == row["id"])
    info = describe_target(target, data.plan.meta.base_year)
    series_unit = data.units.get(info.series, "")
    history = data.series.get(info.series, {})
    years = sorted(history)
    projection = row.get("projection") or {}
    categories = [str(y) for y in years]
    actual_line = [scale(history[y], series_unit) for y in years]
    spark: dict[str, Any] = {"type": "spark", "unit": chart_unit(fmt, series_unit), "categories": categories,
                             "series": [{"name": indicator_name(fmt, info.series), "data": actual_line}]}
    # the sparkline shows the tracked level; a reduction target's projection and target are turned into that
    # level (intensity = base-year intensity × (1 − reduction)), so the line, the projection and the target meet
    to_level = (lambda v: v) if info.kind != "reduction" else (
        (lambda v, base=history.get(info.base_year): None if base is None or v is None else base * (1 - v)))
    projected = to_level(projection.get("value")) if projection.get("value") is not None else None
    if info.kind != "year" and projected is not None and projection.get("year") and years:
        proj_year = int(projection["year"])
        spark["categories"] = categories + [str(y) for y in range(years[-1] + 1, proj_year + 1)]
        pad = [None] * (len(spark["categories"]) - len(actual_line))
        spark["series"][0]["data"] = actual_line + pad
        proj = [None] * (len(actual_line) - 1) + [actual_line[-1]] + [None] * len(pad)
        proj[-1] = scale(projected, series_unit)
        spark["series"].append({"name": _name(fmt, "预测", "projection"), "data": proj, "dashed": True,
                                "connect": True})
    if info.kind != "year" and row.get("target_value") is not None and to_level(row["target_value"]) is not None:
        spark["target"] = scale(to_level(row["target_value"]), series_unit)
    unit = row.get("unit") or ""
    colour = row.get("colour")
    return {
        "id": row["id"],
        "title": _name(fmt, row.get("title_zh"), row.get("title_en")),
        "target_year": row.get("target_year"),
        "level": row.get("level"),
        "level_name": _name(fmt, row.get("level_name_zh"), row.get("level_name_en")),
        "colour_class": COLOUR_CLASSES.get(colour or "", "warn-none"),
        "actual": fmt.quantity(row.get("actual"), unit),
        "actual_year": row.get("actual_year"),
        "target": fmt.quantity(row.get("target_value"), unit) if row.get("is_set") else None,
        "projection": fmt.quantity(projection.get("value"), unit) if projection.get("value") is not None else None,
        "projection_year": projection.get("year"),
        "projection_method": fmt.text(projection.get("method")),
        "progress": fmt.percent(row.get("progress_share"), 0) if row.get("progress_share") is not None else None,
        "elapsed": fmt.percent(row.get("time_elapsed_share"), 0)
        if row.get("time_elapsed_share") is not None else None,
        "reason": row.get("reason") if _zh(fmt) else row.get("reason_en"),
        "value_source": row.get("value_source"),  # who set the value, with which document (services.targets)
        "spark": spark,
        "origin": origin_view(row, fmt),
        "deciding_basis": row.get("deciding_basis"), "basis_rule": row.get("basis_rule"),
        "basis": row.get("basis"),
        "bases": [{"basis": b, "actual": fmt.quantity(e.get("actual"), unit) if info.kind != "year"
                   else fmt.year(int(e["actual"])) if e.get("actual") is not None else "–",
                   "level": e.get("level"), "level_name": _name(fmt, e.get("level_name_zh"), e.get("level_name_en")),
                   "colour_class": COLOUR_CLASSES.get(e.get("colour") or "", "warn-none")}
                  for b, e in (row.get("bases") or {}).items()],
    }


def targets_view(source: Snapshot, principal: Principal, fmt: Formatter, year: int | None = None) -> dict:
    year = year or source.latest_year()
    report = source.status(year)
    rows = [_target_row(source, row, fmt) for row in report["targets"]]
    return {"year": year, "targets": rows, "summary": report["summary"],
            "estimates": [fmt.text(e) for e in report["estimates"]],
            "rule_set": report.get("rule_set_document") or report.get("rule_set"),
            "verdict": verdict_view(source, fmt)}


# -- accounting ------------------------------------------------------------------------------------------

_KPIS = ("energy_consumption_tce", "co2_emissions_t", "non_fossil_share", "coal_share",
         "energy_intensity_tce_per_10k_yuan", "co2_intensity_t_per_10k_yuan")


def _row_name(fmt: Formatter, row) -> str:
    """A sector (the codelist's names in the row) or a fuel group of the accounting engine (its table carries
    Chinese names only; both languages from the catalogs' ``fuel-group`` labels)."""
    if "name_en" in row:
        return _name(fmt, row.get("name_zh"), row.get("name_en"))
    return fmt.label("fuel-group", row.get("group"))


def _breakdown_chart(fmt: Formatter, frame, column: str, unit: str, kind: str = "bar") -> dict:
    rows = frame.sort_values(column, ascending=True)
    return {"type": kind, "horizontal": kind == "bar", "unit": chart_unit(fmt, unit),
            "categories": [_row_name(fmt, r) for _, r in rows.iterrows()],
            "series": [{"name": chart_unit(fmt, unit), "data": [scale(v, unit) for v in rows[column]]}]}


#: the accounting page's method selector: (query parameter, service choice, values), as the API's parameters
ACCOUNTING_CHOICES = (
    ("method", "method", ("coal-equivalent", "calorific")),
    ("coal_rate", "coal_rate", ("generation", "supply")),
    ("co2_factors", "co2_factors", ("provincial", "ipcc", "ipcc-cn-ncv")),
    ("grid_factor", "grid_factor", ("provincial", "regional", "national", "reporting")),
    ("electricity_co2", "electricity_co2_basis", ("net-inflow", "consumption")),
    ("non_fossil_attribution", "nonfossil_attribution", ("grid-average", "local-mix")),
)


def _method_selector(fmt: Formatter, result, choices: tuple[tuple[str, str], ...]) -> list[dict]:
    """The selector's fields with the value in effect (the choice made, else the city's profile)."""
    profile = {row["option"]: str(row["value"]) for row in result.provenance.profile}
    chosen = dict(choices)
    return [{"name": param, "label": fmt.label("option", option),
             "options": [{"value": v, "label": fmt.option(v), "selected": chosen.get(option, profile.get(option)) == v}
                         for v in values]}
            for param, option, values in ACCOUNTING_CHOICES]


def accounting_view(source: Snapshot, principal: Principal, fmt: Formatter, year: int | None = None,
                    choices: tuple[tuple[str, str], ...] = ()) -> dict:
    """Indicators, breakdowns, dual-control deductions, the energy flow and the provenance of one year's
    accounts on the method ``choices`` of the page's selector (the city's profile otherwise). Every share is
    :func:`~citycarbon.accounting.shares.fuel_group_shares`' (one basis, stated on each chart)."""
    years = source.years()
    year = year or max(years)
    report = source.energy_flow(year, choices)
    result = report.accounts
    shares = report.shares
    values = {**result.indicators, "coal_share": shares["coal"].share if "coal" in shares else None}
    indicators = []
    for name, value in values.items():
        unit = result.units.get(name, "")
        if unit == "year":
            continue
        indicators.append({"name": indicator_name(fmt, name), "code": name,
                           "value": fmt.quantity(value, unit, 3 if "intensity" in name and "reduction" not in name
                                                 else 1)})
    by_sector = result.by_sector
    by_fuel = result.by_fuel_group
    provenance = result.provenance
    factors = sorted(provenance.factors, key=lambda f: (f.get("status") != "estimate", f["factor_id"]))
    dual = result.dual_control
    return {
        "year": year, "years": list(years),
        "kpis": [{"name": indicator_name(fmt, k), "code": k,
                  "value": fmt.quantity(values.get(k), result.units.get(k, ""),
                                        3 if "intensity" in k else 1)}
                 for k in _KPIS if k in result.indicators],
        "indicators": indicators,
        "sectors": [{"name": _name(fmt, r["name_zh"], r["name_en"]), "energy": fmt.wan(r["energy_tce"]),
                     "co2": fmt.wan(r["co2_t"])}
                    for _, r in by_sector.sort_values("energy_tce", ascending=False).iterrows()],
        "fuels": [{"name": _row_name(fmt, r), "energy": fmt.wan(r["energy_tce"]),
                   "co2": fmt.wan(r["co2_t"]), "group": r["group"],
                   "share": fmt.percent(shares[r["group"]].share, flow_views.SHARE_DIGITS)}
                  for _, r in by_fuel.sort_values("energy_tce", ascending=False).iterrows()],
        "scopes": [{"code": k, "value": fmt.wan(v)} for k, v in result.co2_by_scope.items()],
        "dual": [{"code": k, "value": fmt.wan(v)} for k, v in dual.items()],
        "sector_energy_chart": {**_breakdown_chart(fmt, by_sector, "energy_tce", "tce"),
                                "basis": flow_views.energy_basis(fmt, report.flows.method)},
        "sector_co2_chart": {**_breakdown_chart(fmt, by_sector, "co2_t", "t"), "basis": flow_views.co2_basis(fmt)},
        "fuel_chart": flow_views.share_chart(fmt, shares, report.flows.method),
        "share_basis": flow_views.share_basis(fmt, report.flows.method),
        "method": report.flows.method,
        "flow": flow_views.flow_view(fmt, report.flows),
        "provenance": {
            "method": fmt.text(provenance.method), "version": provenance.method_version,
            "standards": provenance.standards,
            "inputs": sorted((fmt.label("dataset", k), h) for k, h in provenance.inputs.items()),
            "computed_at": fmt.datetime(provenance.computed_at),
            "parameters": sorted((fmt.label("option", k), fmt.option(v)) for k, v in provenance.parameters.items()),
        },
        "factors": [{"id": f["factor_id"], "kind": fmt.label("factor-kind", f["kind"]), "key": fuel_name(fmt, f["key"]),
                     "value": f["value"], "unit": fmt.label("unit", f["unit"]), "status_code": f["status"],
                     "status": fmt.label("status", f["status"]),
                     "document": f.get("document") or fmt.text(f.get("source")) or ""} for f in factors],
        "estimates": [fmt.text(e) for e in provenance.estimates],
        "estimated_factors": sum(1 for f in factors if f["status"] in ("estimate", "unverified")),
        "verdict": verdict_view(source, fmt),
        "method_choices": _method_selector(fmt, result, choices),
        "fallbacks": [f["text_zh"] if _zh(fmt) else f["text_en"] for f in provenance.fallbacks],
    }


# -- cockpit ---------------------------------------------------------------------------------------------

def _series_chart(fmt: Formatter, source: Snapshot, names: list[str], kind: str = "line") -> dict:
    data = source.city_data()
    years = list(data.years)
    unit = data.units.get(names[0], "")
    return {"type": kind, "unit": chart_unit(fmt, unit), "categories": [str(y) for y in years],
            "series": [{"name": indicator_name(fmt, n), "data": [scale(data.series.get(n, {}).get(y), unit)
                                                                 for y in years]} for n in names]}


def visible_districts(source: Snapshot, principal: Principal, report: dict) -> list[dict]:
    """The districts of the status report this principal may see (none for viewers and enterprises)."""
    return [d for d in report.get("districts", []) if principal.can_read_region(d["region"])]


def districts_view(source: Snapshot, principal: Principal, fmt: Formatter, year: int | None = None) -> dict:
    year = year or source.latest_year()
    report = source.status(year)
    rows = []
    titles = {t["id"]: _name(fmt, t.get("title_zh"), t.get("title_en")) for t in report["targets"]}
    for district in visible_districts(source, principal, report):
        targets = []
        for t in district["targets"]:
            targets.append({"id": t["id"], "title": titles.get(t["id"]) or fmt.label("target", t["id"]),
                            "actual": fmt.percent(t["actual"]) if t["actual"] is not None else "–",
                            "target": fmt.percent(t["target_value"]) if t["target_value"] is not None else None,
                            "colour_class": COLOUR_CLASSES.get(t.get("colour") or "", "warn-none"),
                            "reason": t["reason"] if _zh(fmt) else t["reason_en"]})
        rows.append({"code": district["region"], "name": _name(fmt, district["name_zh"], district["name_en"]),
                     "energy": fmt.wan(district["energy_consumption_tce"]),
                     "gdp": fmt.decimal((district["gdp_10k_yuan"] or 0) / 1e4, 1),
                     "intensity": fmt.decimal(district["energy_intensity_tce_per_10k_yuan"], 3),
                     "summary": district["summary"], "targets": targets,
                     "energy_raw": district["energy_consumption_tce"],
                     # issue 16 (track): where the energy and GDP figures come from
                     "origins": _track_district_origins(district)})
    chart = {"type": "bar", "horizontal": True, "unit": fmt.units["tce"], "categories": [r["name"] for r in rows],
             "series": [{"name": fmt.units["tce"], "data": [scale(r["energy_raw"], "tce") for r in rows]}]}
    return {"year": year, "districts": rows, "chart": chart}


def _track_district_origins(district: dict) -> list[dict]:
    """The district's energy and GDP figures' origins (imported statistics with status and batch, or the share
    estimate) for the districts page; empty for a report without origins."""
    out = []
    for name in ("energy_consumption_tce", "gdp_10k_yuan"):
        origin = (district.get("origins") or {}).get(name)
        if origin:
            out.append({"series": name, "statistics": origin.get("origin") == "statistics",
                        "batch": origin.get("batch_id"), "status": origin.get("status"),
                        "estimate": bool(origin.get("estimate"))})
    return out


def cockpit_view(source: Snapshot, principal: Principal, fmt: Formatter) -> dict:
    year = source.latest_year()
    report = source.status(year)
    accounts = source.accounts(year)
    targets = [_target_row(source, row, fmt) for row in report["targets"]]
    alerts = sorted((t for t in targets if t["level"] in (1, 2)), key=lambda t: (t["level"], t["id"]))
    unset = [t for t in targets if t["level"] is None]
    data = source.city_data()
    sink = data.series.get("sink_co2_t", {}).get(year)
    net = data.series.get("net_co2_emissions_t", {}).get(year)
    values = accounts.indicators
    kpis = [{"name": indicator_name(fmt, name), "value": fmt.quantity(value, unit)} for name, value, unit in (
        ("energy_consumption_tce", values["energy_consumption_tce"], "tce"),
        ("co2_emissions_t", values["co2_emissions_t"], "t"),
        ("non_fossil_share", values["non_fossil_share"], "dimensionless"),
        ("coal_share", values["coal_share"], "dimensionless"),
        ("sink_co2_t", sink, "t"),
        ("net_co2_emissions_t", net, "t"))]
    by_sector = accounts.by_sector
    by_fuel = accounts.by_fuel_group
    districts = districts_view(source, principal, fmt, year)["districts"]
    return {
        "year": year, "targets": targets, "alerts": alerts, "unset": unset, "summary": report["summary"],
        "kpis": kpis, "estimates": [fmt.text(e) for e in report["estimates"]], "districts": districts,
        "verdict": verdict_view(source, fmt), "basis": data.basis,
        "charts": {
            "emissions": basis_chart(fmt, source),
            "energy": _series_chart(fmt, source, ["energy_consumption_tce", "energy_consumption_dual_control_tce"]),
            "non_fossil": _series_chart(fmt, source, ["non_fossil_share", "coal_share"]),
            "sinks": _series_chart(fmt, source, ["sink_co2_t"], kind="bar"),
            "sector_energy": _breakdown_chart(fmt, by_sector, "energy_tce", "tce"),
            "sector_co2": _breakdown_chart(fmt, by_sector, "co2_t", "t"),
            "fuel_energy": flow_views.share_chart(fmt, fuel_group_shares(accounts),
                                                  str(accounts.electricity["method"])),
            "fuel_co2": _breakdown_chart(fmt, by_fuel, "co2_t", "t"),
        },
    }


# -- decomposition and sinks ---------------------------------------------------------------------------------

def decomposition_view(source: Snapshot, principal: Principal, fmt: Formatter, measure: str = "co2") -> dict:
    result, households = source.decomposition(measure)
    unit = "t" if measure == "co2" else "tce"
    additive = result.additive
    names = [fmt.label("lmdi-factor", f) for f in result.factors]
    waterfall = {"type": "waterfall", "unit": fmt.units[unit],
                 "categories": [str(result.start), *names, str(result.end)],
                 "series": [{"name": fmt.units[unit],
                             "data": [scale(result.v_start, unit), *[scale(additive[f], unit) for f in result.factors],
                                      scale(result.v_end, unit)]}]}
    by_period: dict[str, dict[str, float]] = {}
    for row in result.period_rows():
        by_period.setdefault(row["factor"], {})[f"{row['from']}–{row['to']}"] = row["additive_effect"]
    period_keys = [f"{p.start}–{p.end}" for p in result.periods]
    stacked = {"type": "stacked", "unit": fmt.units[unit], "categories": period_keys,
               "series": [{"name": name, "data": [scale(by_period.get(f, {}).get(k), unit) for k in period_keys]}
                          for f, name in zip(result.factors, names, strict=True)]}
    return {
        "measure": measure, "start": result.start, "end": result.end, "unit": fmt.units[unit],
        "v_start": fmt.wan(result.v_start), "v_end": fmt.wan(result.v_end), "change": fmt.wan(result.total_change),
        "effects": [{"name": name, "value": fmt.wan(additive[f]),
                     "share": fmt.percent(additive[f] / result.total_change) if result.total_change else "–"}
                    for f, name in zip(result.factors, names, strict=True)],
        "categories": [fmt.label("industry-category", c) for c in result.categories],
        "closure": fmt.decimal(result.max_closure_error, 6),
        "households": [{"year": int(r.year), "energy": fmt.wan(r.energy_tce), "co2": fmt.wan(r.co2_t)}
                       for r in households.itertuples()],
        "waterfall": waterfall, "stacked": stacked,
    }


def sinks_view(source: Snapshot, principal: Principal, fmt: Formatter, year: int | None = None) -> dict:
    years = source.years()
    year = year or max(years)
    summary = source.sinks(year)
    forest = summary["forest"]
    wetland = summary["wetland"]
    chart = _series_chart(fmt, source, ["sink_co2_t"], kind="bar")
    return {
        "year": year, "years": list(years),
        "forest": {"stock": fmt.quantity(forest.get("stock_m3"), "m**3"),
                   "coverage": fmt.percent(forest.get("coverage")),
                   "sink": fmt.quantity(forest.get("sink_tco2"), "t"), "basis": fmt.text(forest.get("basis")),
                   "parameters": forest.get("parameters", [])},
        "wetland": [{"ecosystem": fmt.label("ecosystem", w["ecosystem"]), "area": fmt.decimal(w["area_ha"], 0),
                     "rate": w["rate"], "sink": fmt.quantity(w["sink_tco2"], "t"), "status_code": w["status"],
                     "status": fmt.label("status", w["status"]), "standard": w.get("standard")}
                    for w in wetland],
        "total": fmt.quantity(summary.get("total_sink_tco2"), "t"),
        "projection": [{"year": y, "coverage": fmt.percent(p.get("forest_coverage", {}).get("value")),
                        "stock": fmt.quantity(p.get("forest_stock_m3", {}).get("value"), "m**3"),
                        "sink": fmt.quantity(p.get("sink_tco2", {}).get("value"), "t")}
                       for y, p in sorted((summary.get("projection") or {}).items())],
        "chart": chart,
    }


# -- the peak judgement and the neutrality verdict (one partial on every page) ------------------------------

def verdict_view(source: Snapshot, fmt: Formatter) -> dict | None:
    """What ``partials/peak_verdict.html`` shows on the cockpit, targets, accounting and pathways pages: the
    status report's ``headline`` of the latest year (the same service result on every page, so the peak year
    and the neutrality verdict cannot differ between them)."""
    report = source.status(source.latest_year())
    headline = report.get("headline") or {}
    peak, neutral = headline.get("peak"), headline.get("neutrality")
    if peak is None and neutral is None:
        return None
    out: dict[str, Any] = {"year": report.get("year"), "basis": headline.get("basis"), "peak": None,
                           "neutrality": None, "co2": []}
    if peak is not None:
        out["peak"] = {
            "peak_year": peak.get("peak_year"), "deciding_basis": peak.get("deciding_basis"),
            "basis_rule": peak.get("basis_rule"), "target_year": peak.get("target_year"), "level": peak.get("level"),
            "colour_class": COLOUR_CLASSES.get(peak.get("colour") or "", "warn-none"),
            "bases": [{"basis": b, "peak_year": e.get("peak_year"), "peak": fmt.quantity(e.get("peak_value"), "t"),
                       "plateau": ", ".join(str(y) for y in e.get("plateau_years") or []) or "–",
                       "trend": e.get("trend"),
                       "trend_change": fmt.percent(e.get("trend_change")) if e.get("trend_change") is not None
                       else "–", "trend_from": e.get("trend_from"), "latest_year": e.get("latest_year"),
                       "projected_peak_year": e.get("projected_peak_year"), "level": e.get("level"),
                       "decides": b == peak.get("deciding_basis")}
                      for b, e in (peak.get("bases") or {}).items()]}
    if neutral is not None:
        out["neutrality"] = {
            "reached": neutral.get("reached"), "deciding_basis": neutral.get("deciding_basis"),
            "basis_rule": neutral.get("basis_rule"), "target_year": neutral.get("target_year"),
            "projected": fmt.quantity(neutral.get("projected_net_t"), "t"), "level": neutral.get("level"),
            "colour_class": COLOUR_CLASSES.get(neutral.get("colour") or "", "warn-none"),
            "bases": [{"basis": b, "reached": e.get("reached"),
                       "projected": fmt.quantity(e.get("projected_net_t"), "t"), "level": e.get("level"),
                       "decides": b == neutral.get("deciding_basis")}
                      for b, e in (neutral.get("bases") or {}).items()]}
    for basis, values in (report.get("co2_bases") or {}).items():
        out["co2"].append({"basis": basis, "year": values.get("year"),
                           "co2": fmt.quantity(values.get("co2_emissions_t"), "t"),
                           "net": fmt.quantity(values.get("net_co2_emissions_t"), "t")})
    return out


def origin_view(row: dict, fmt: Formatter) -> dict | None:
    """A target card's figure origin: official, reported or estimated, and from which batches/sources."""
    origin = row.get("origin")
    if not origin:
        return None
    sources = [fmt.text(s) for s in origin.get("sources") or []]
    return {"origin": origin.get("origin"), "year": origin.get("year"), "sources": sources[:2],
            "more": max(0, len(sources) - 2)}


def basis_chart(fmt: Formatter, source: Snapshot) -> dict:
    """CO2 on both bases (net inflow, consumption), gross and net of sinks: the cockpit's emissions chart."""
    data = source.city_data()
    years = list(data.years)
    names = {"net_inflow": _name(fmt, "净调入口径", "net-inflow basis"),
             "consumption": _name(fmt, "消费口径", "consumption basis")}
    series = []
    for basis, values in data.bases.items():
        for name in ("co2_emissions_t", "net_co2_emissions_t"):
            series.append({"name": f"{indicator_name(fmt, name)}（{names.get(basis, basis)}）" if _zh(fmt)
                           else f"{indicator_name(fmt, name)} ({names.get(basis, basis)})",
                           "data": [scale(values.get(name, {}).get(y), "t") for y in years],
                           "dashed": basis != data.basis})
    return {"type": "line", "unit": chart_unit(fmt, "t"), "categories": [str(y) for y in years], "series": series}

