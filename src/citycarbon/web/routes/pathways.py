"""The pathways page (减排路径): lever sliders by plan task group, charts redrawn as a lever moves.

* ``GET /pathways?scenario=Plan&code=…&<lever>=<value>…`` — the page: a scenario picker, one slider per lever
  (grouped by the plan's task groups, plan value marked), the results block, the wedge and ensemble sections.
  The query is also the share link: ``code`` is the canonical scenario code, the lever values that differ from
  the scenario travel with it, so the link survives a server restart (a bare ``?code=`` is looked up in the
  app's pathway service, :meth:`citycarbon.services.pathways.PathwayService.recall`).
* ``GET /pathways/results?…`` — the results block alone (HTMX: the slider form is sent with
  ``hx-trigger="input changed delay:150ms"``; the answer carries ``HX-Replace-Url`` with the share link).
  Comparison BAU / Plan / Enhanced / current on CO2, energy and non-fossil share, KPIs, every plan target's
  met flag and margin, share link and IAMC downloads. One model run (the others are cached by code).
* ``GET /pathways/wedges?…`` — Shapley wedges by task group (current settings against BAU), on demand.
  Issue 17 (webunc): with the by-sector LMDI of the same gap in ``lmdi_year`` (default 2030) and its total
  beside the wedges' total; ``/pathways/macc`` draws p5–p95 whiskers from 200 ensemble runs; the results block
  lists the energy-project registry's pipeline by technology beside the scenario's capacity paths (readers of
  the registry only).
* ``GET /pathways/ensemble?…&runs=1000`` — ensemble of the uncertain parameters: P(peak ≤ 2030), the
  peak-year distribution and each target's probability, on demand.

Everything is a read (GET; nothing is written), so no CSRF token is involved. Allowed for admin, analyst and
viewer (the nav entry's rule in :func:`citycarbon.web.app.nav_permissions`); others get the designed 403 page.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from functools import cache
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from citycarbon.errors import Forbidden, InputError, Problem
from citycarbon.services.pathways import COMPARISON, PathwayService, service_for
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import Formatter

router = APIRouter(include_in_schema=False)
log = logging.getLogger("citycarbon.web")

ROLES = ("admin", "analyst", "viewer")
ENSEMBLE_RUNS = (200, 1000, 2000)
DEFAULT_RUNS = 1000
#: years of the results table and KPIs
TABLE_YEARS = (2025, 2030, 2035, 2060)
# issue 17 (web): the basis switch (``?basis=``): the accounting profile's rule or one of the model's CO2 bases
BASIS_CHOICES = ("rule", "net_inflow", "consumption", "territorial")
DEFAULT_BASIS = "rule"


def _zh(fmt: Formatter) -> bool:
    return fmt.locale.startswith("zh")


def _service(request: Request) -> PathwayService:
    """The app's pathway service (``app.state.pathways``; the API and the page share its caches), as
    :func:`_gate` obtained it for the caller (the service refuses a caller scoped to another city)."""
    service = getattr(request.state, "pathways", None)
    if service is None:  # pragma: no cover - every handler passes the gate first
        raise RuntimeError("pathways handler called without _gate")
    return service


# --- reading the form / share link ------------------------------------------------------------------------------
def read_query(request: Request) -> tuple[str, dict[str, float], list[str]]:
    """(scenario name, lever settings that differ from the scenario, notes) from the query string.

    Lever values come as ``<lever id>=<value>``; a bare ``code`` (no values) is looked up in the process's
    memory of codes. Bad values raise :class:`InputError` naming the lever.
    """
    params = request.query_params
    name = params.get("scenario") or "Plan"
    code = (params.get("code") or "").strip().lower()
    service = _service(request)
    model = service.model()
    lever_ids = {lever.id for lever in model.levers}
    raw = {k: v for k, v in params.items() if k in lever_ids}
    notes: list[str] = []
    if not raw and code:
        known = service.recall(code)
        if known is None:
            notes.append("unknown_code")
        else:
            name, settings = known
            return name, settings, notes
    values: dict[str, float] = {}
    problems = []
    for key, value in raw.items():
        try:
            values[key] = float(value)
        except ValueError:
            problems.append(Problem(f"'{value}' is not a number", field=f"levers.{key}", value=value))
    if problems:
        raise InputError(problems)
    base = service.base_scenario(name)
    current = {lever.id: base.levers.get(lever.id, lever.default) for lever in model.levers}
    changed = {k: v for k, v in values.items() if abs(v - current[k]) > 1e-9 * max(1.0, abs(current[k]))}
    return base.name, changed, notes


def share_query(name: str, settings: dict[str, float], code: str, basis: str = "rule") -> str:
    extra = {"basis": basis} if basis != "rule" else {}  # issue 17 (web): the basis switch travels with the link
    return urlencode({"scenario": name, "code": code, **extra,
                      **{k: f"{v:g}" for k, v in sorted(settings.items())}})


# --- view models ------------------------------------------------------------------------------------------------
def lever_groups(request: Request, fmt: Formatter, scenario) -> list[dict]:
    """Sliders grouped by plan task group (plan order), each with its value, range, BAU and plan marks."""
    from citycarbon.pathways.attribution import group_titles

    model = _service(request).model()
    titles = group_titles(model)
    groups: dict[str, dict] = {}
    for lever in model.levers:
        if lever.group not in groups:
            zh, en = titles.get(lever.group, ("", ""))
            groups[lever.group] = {"key": lever.group, "title": (zh if _zh(fmt) else en) or "", "levers": []}
        value = float(scenario.levers.get(lever.id, lever.default))
        span = (lever.max - lever.min) or 1.0
        groups[lever.group]["levers"].append({
            "id": lever.id, "name": lever.name_zh if _zh(fmt) else lever.name_en, "unit": lever.unit,
            "unit_label": "%" if lever.unit == "dimensionless" else fmt.units.get(lever.unit, lever.unit),
            "min": lever.min, "max": lever.max, "value": value, "plan": lever.plan, "default": lever.default,
            "plan_pos": round(100.0 * (lever.plan - lever.min) / span, 2),
            "shown": _lever_value(fmt, value, lever.unit), "plan_shown": _lever_value(fmt, lever.plan, lever.unit),
            "bau_shown": _lever_value(fmt, lever.default, lever.unit), "start": lever.start_year,
            "full": lever.full_year, "step": _step(lever.min, lever.max)})
    ordered = sorted(groups.values(), key=lambda g: (0, int(g["key"])) if g["key"].isdigit() else (-1, 0))
    return ordered


def _step(low: float, high: float) -> str:
    span = high - low
    for step in (1000.0, 100.0, 10.0, 1.0, 0.1, 0.01, 0.001, 0.0001):
        if span / step >= 50:
            return f"{step:g}"
    return "any"


def _lever_value(fmt: Formatter, value: float, unit: str) -> str:
    if unit == "dimensionless":
        return fmt.percent(value, 1)
    digits = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 3)
    return f"{fmt.decimal(value, digits)} {fmt.units.get(unit, unit)}"


def _line(categories: list[str], series: list[dict], unit: str) -> dict:
    return {"type": "line", "unit": unit, "categories": categories, "series": series}


def results_view(request: Request, fmt: Formatter, name: str, settings: dict[str, float],
                 basis: str = DEFAULT_BASIS) -> dict:
    """Everything the results block shows for the scenario ``name`` with ``settings``; the CO2 chart and the
    peak KPIs on ``basis`` (issue 17: ``rule`` = the accounting profile's rule, or one CO2 basis)."""
    service = _service(request)
    model = service.model()
    scenario = service.resolve(name, settings)
    current = service.run_document(scenario)
    comparison = {n: service.run_document(service.base_scenario(n)) for n in COMPARISON
                  if n in service.shipped_names()}
    by_basis = service.bases([*(service.base_scenario(n) for n in comparison), scenario])
    years = current["years"]
    categories = [str(y) for y in years]
    label_current = fmt_label(service, fmt, name, bool(settings))
    names = {n: scenario_title(service, fmt, n) for n in comparison}

    def chart(series: str, factor: float, unit: str, digits: int = 1) -> dict:
        lines = [{"name": names.get(n, n), "data": [round(v * factor, digits) for v in run["series"][series]],
                  "dashed": True} for n, run in comparison.items()]
        lines.append({"name": label_current, "data": [round(v * factor, digits) for v in current["series"][series]]})
        return _line(categories, lines, unit)

    charts = {"co2": _basis_chart(by_basis, basis, names, label_current, fmt),
              "energy": chart("energy_consumption_tce", 1e-4, fmt.units["tce"]),
              "non_fossil": chart("non_fossil_share", 100.0, "%")}
    registry = _registry_chart(request, fmt, years, current["series"]["wind_solar_capacity_mw"], label_current)
    if registry is not None:
        charts["registry"] = registry
    # issue 17 (webunc): the registry's connected capacity and pipeline by technology beside the scenario's paths
    principal = getattr(request.state, "principal", None)
    beside = service.registry_beside(scenario, principal) \
        if principal is not None and callable(getattr(service, "registry_beside", None)) else None
    index = {y: i for i, y in enumerate(years)}
    nf = current["series"]["non_fossil_share"]
    mine = by_basis["scenarios"][-1]
    co2 = mine["co2"][basis]
    kpis = [
        {"key": "peak_year", "name": "CO2 peak year", "value": fmt.year(mine["peak_year"][basis]),
         "raw": mine["peak_year"][basis]},
        {"key": "peak_value", "name": "CO2 at the peak", "value": fmt.quantity(mine["peak_value"][basis], "t"),
         "raw": mine["peak_value"][basis]},
        {"key": "plateau_years", "name": "Plateau years", "value": str(mine["plateau_years"][basis]),
         "raw": mine["plateau_years"][basis]},
        {"key": "co2_2030", "name": "CO2 in 2030", "value": fmt.quantity(co2[index[2030]], "t"),
         "raw": co2[index[2030]]},
        {"key": "non_fossil_2030", "name": "Non-fossil share in 2030", "value": fmt.percent(nf[index[2030]]),
         "raw": nf[index[2030]]},
        {"key": "net_co2_2060", "name": "Net CO2 in 2060", "value": fmt.quantity(current["net_co2_2060_t"], "t"),
         "raw": current["net_co2_2060_t"]},
        {"key": "neutrality_year", "name": "Net zero reached",
         "value": fmt.year(current["neutrality_year"]) if current["neutrality_year"] else "–",
         "raw": current["neutrality_year"]},
    ]
    specs = {s["id"]: s for s in model.target_specs}
    plan_targets = {t.id: t for t in getattr(model.plan, "targets", [])}
    others = {n: {t["id"]: t.get("met") for t in run["targets"]} for n, run in comparison.items()}
    targets = []
    for t in current["targets"]:
        spec = specs.get(t["id"], {})
        planned = plan_targets.get(t["id"])
        zh = spec.get("title_zh") or getattr(planned, "title_zh", None)
        en = spec.get("title_en") or getattr(planned, "title_en", None)
        title = (zh if _zh(fmt) else en) or zh or t["id"]
        unit = spec.get("unit") or t.get("unit") or ""
        year = spec.get("year") or getattr(planned, "year", None)
        targets.append({"id": t["id"], "title": title, "year": year, "met": t.get("met"),
                        "target": fmt.quantity(spec.get("value"), unit) if spec else "–",
                        "margin": _margin(fmt, t.get("margin"), unit), "raw_margin": t.get("margin"),
                        "others": {n: v.get(t["id"]) for n, v in others.items()}})
    query = share_query(name, settings, scenario.code, basis)
    set_items = [("set", f"{k}:{v:g}") for k, v in sorted(settings.items())]
    downloads = {
        "csv": "/api/v1/pathways/export?" + urlencode([("scenario", name), *set_items, ("format", "csv")]),
        "xlsx": "/api/v1/pathways/export?" + urlencode([("scenario", name), *set_items, ("format", "xlsx")]),
        "shipped_xlsx": "/api/v1/pathways/export?" + urlencode([*(("scenario", n) for n in comparison),
                                                                 ("format", "xlsx")]),
    }
    return {"problem": None, "failed": False, "scenario": name, "label": label_current, "code": scenario.code,
            "settings": settings,
            "charts": charts, "kpis": kpis, "targets": targets, "comparison": list(comparison),
            "comparison_names": names, "share_url": "/pathways?" + query, "downloads": downloads,
            "changed": [{"id": k, "value": v} for k, v in sorted(settings.items())],
            "neutrality": _neutrality(service, current, fmt),
            "basis": basis, "bases": _basis_rows(by_basis, basis, fmt),
            "basis_rule": by_basis["rule"], "basis_deciding": mine["deciding"],
            "non_fossil_view": _non_fossil_view(by_basis, fmt, label_current),
            "registry_table": _registry_table(fmt, beside)}


def _neutrality(service: PathwayService, current: dict, fmt: Formatter) -> dict | None:
    """The scenario's neutrality verdict (the same domain judgement as the cockpit's, on this scenario)."""
    verdict = service.neutrality(current)
    if verdict is None:
        return None
    return {**verdict, "projected": fmt.quantity(verdict["projected_net_t"], "t")}


@cache
def _translations(locale: str):
    from citycarbon.web.i18n import load_translations

    return load_translations(locale)


def _t(fmt: Formatter, message: str) -> str:
    """``message`` in the page's language (msgids of pathways.po used from Python: scenario labels)."""
    return _translations(fmt.locale).gettext(message)


def scenario_title(service: PathwayService, fmt: Formatter, name: str) -> str:
    """A shipped scenario's name in the page's language (``name_zh`` of its YAML file for Chinese)."""
    if not _zh(fmt):
        return name
    try:
        return service.base_scenario(name).name_zh or name
    except InputError:
        return name


def fmt_label(service: PathwayService, fmt: Formatter, name: str, changed: bool) -> str:
    base = scenario_title(service, fmt, name)
    return f"{base} ({_t(fmt, 'what-if')})" if changed else base


def _margin(fmt: Formatter, margin: float | None, unit: str) -> str:
    if margin is None:
        return "–"
    if unit in ("dimensionless", "1", ""):
        return ("+" if margin >= 0 else "") + fmt.decimal(margin * 100, 1) + (" 个百分点" if _zh(fmt) else " pp")
    if unit == "year":
        return ("+" if margin >= 0 else "") + str(round(margin))
    return ("+" if margin >= 0 else "−") + fmt.quantity(abs(margin), unit)


def wedges_view(request: Request, fmt: Formatter, name: str, settings: dict[str, float],
                lmdi_year: int | None = None) -> dict:
    from citycarbon.pathways.attribution import group_titles

    service = _service(request)
    scenario = service.resolve(name, settings)
    base = service.base_scenario("BAU")
    # issue 17 (webunc): the by-sector LMDI of the gap in ``lmdi_year`` comes with the wedges (the same call)
    result = service.attribution(base, scenario, lmdi=lmdi_year).to_dict() if lmdi_year is not None else \
        service.attribution(base, scenario).to_dict()
    titles = group_titles(service.model())
    years = result["wedges"]["years"]
    series = []
    rows = []
    for group in result["groups"]:
        zh, en = titles.get(group["group"], (group.get("title_zh") or "", group.get("title_en") or ""))
        title = (zh if _zh(fmt) else en) or group["group"]
        avoided = result["wedges"]["avoided"][group["group"]]
        series.append({"name": title, "data": [round(v * 1e-4, 1) for v in avoided]})
        rows.append({"title": title, "cumulative": fmt.quantity(-group["cumulative"], "t"),
                     "share": fmt.percent(group["share"])})
    chart = {"type": "stacked", "unit": fmt.units["t"], "categories": [str(y) for y in years], "series": series}
    return {"chart": chart, "rows": rows, "empty": not rows, "code": scenario.code,
            "total": fmt.quantity(-result["total_cumulative"], "t"),
            "lmdi": _lmdi_view(fmt, result.get("lmdi_between")), "lmdi_year": lmdi_year,
            "lmdi_years": LMDI_YEARS}


def ensemble_view(request: Request, fmt: Formatter, name: str, settings: dict[str, float], runs: int) -> dict:
    service = _service(request)
    scenario = service.resolve(name, settings)
    result = service.ensemble(scenario, runs, 0).to_dict()
    dist = result["peak_year_distribution"]
    years = sorted(dist, key=int)
    chart = {"type": "bar", "unit": "%", "categories": [str(y) for y in years],
             "series": [{"name": "P", "data": [round(100 * dist[y], 1) for y in years]}]}
    targets = [{"title": (t.get("title_zh") if _zh(fmt) else t.get("title_en")) or t["id"],
                "p": fmt.percent(t["p_met"]) if t.get("p_met") is not None else "–", "raw": t.get("p_met")}
               for t in result["targets"]]
    return {"runs": result["runs"], "p_peak": fmt.percent(result["p_peak_by_2030"]),
            "p_peak_raw": result["p_peak_by_2030"], "chart": chart, "targets": targets, "code": scenario.code}


# --- handlers ---------------------------------------------------------------------------------------------------
#: the last year of the wind + solar chart that sets the scenario beside the energy-project registry
REGISTRY_UNTIL = 2035


def _registry_chart(request: Request, fmt: Formatter, years: list[int], path: list[float],
                    label: str) -> dict | None:
    """The scenario's wind + solar capacity path beside the energy-project registry (issue 15): grid-connected
    by year (statistics, then the registry's connections) and with the pipeline by expected grid connection
    (:func:`citycarbon.services.projects.energy_projects.registry_capacity_path`). None without a store."""
    from sqlalchemy.exc import SQLAlchemyError

    from citycarbon.services.projects.energy_projects import registry_capacity_path

    principal = getattr(request.state, "principal", None)
    if principal is None or getattr(request.app.state, "results", None) is None:
        return None
    try:
        found = registry_capacity_path(web_state(request).db(), principal, web_state(request).settings.city)
    except (Forbidden, InputError, SQLAlchemyError):
        return None
    shown = [y for y in years if y <= REGISTRY_UNTIL]
    catalog = _translations(fmt.locale)

    def text(message: str) -> str:
        return catalog.pgettext("registry-chart", message)

    def values(by_year: dict) -> list[float | None]:
        return [round(by_year[y], 1) if y in by_year else None for y in shown]

    return _line([str(y) for y in shown], [
        {"name": f"{label} · {text('wind + solar')}",
         "data": [round(v, 1) for v, y in zip(path, years, strict=True) if y <= REGISTRY_UNTIL]},
        {"name": text("Grid-connected (statistics + registry)"), "data": values(found["grid_connected"])},
        {"name": text("With the pipeline (by expected grid connection)"),
         "data": values(found["with_pipeline"]), "dashed": True}], "MW")


def _gate(request: Request, session) -> Response | None:
    principal = getattr(session, "principal", None)
    if principal is None:
        pending = session is not None and getattr(session, "challenge", None) is not None
        return login_redirect(request, "/login/step" if pending else None)
    if principal.role not in ROLES:
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    request.state.principal = principal  # the registry series reads the energy-project registry as the caller
    try:
        request.state.pathways = service_for(request.app.state, web_state(request).settings.city, principal)
    except Forbidden:  # a user scoped to another city (the service's rule)
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    return None


def _problem_of(error: InputError) -> Problem | None:
    return error.problems[0] if getattr(error, "problems", None) else None


@router.get("/pathways", response_class=HTMLResponse)
def pathways_page(request: Request, session=Depends(current_session)) -> Response:
    refused = _gate(request, session)
    if refused is not None:
        return refused
    fmt = Formatter(locale_of(request))
    problem, notes, status = None, [], 200
    try:
        name, settings, notes = read_query(request)
        basis = read_basis(request)
        scenario = _service(request).resolve(name, settings)
        results = results_view(request, fmt, name, settings, basis)
    except InputError as error:
        problem, status = _problem_of(error), 422
        name, settings, basis = "Plan", {}, DEFAULT_BASIS
        try:
            scenario = _service(request).resolve(name, settings)
            results = results_view(request, fmt, name, settings, basis)
        except Exception:  # pragma: no cover - the shipped Plan always runs
            log.exception("pathways page failed")
            return _server_error(request, session)
    except Exception:
        log.exception("pathways page failed")
        return _server_error(request, session)
    service = _service(request)
    view = {"scenario": name, "scenarios": [{"name": n, "label": fmt_label(service, fmt, n, False)}
                                            for n in service.shipped_names()],
            "groups": lever_groups(request, fmt, scenario), "results": results, "problem": problem,
            "notes": notes, "runs_options": ENSEMBLE_RUNS, "default_runs": DEFAULT_RUNS,
            "verdict": _verdict(request, fmt), "basis": basis, "basis_choices": BASIS_CHOICES}
    return render(request, "pathways.html", {"view": view}, session=session, status_code=status)


def _verdict(request: Request, fmt: Formatter) -> dict | None:
    """The tracking headline (peak judgement, neutrality verdict) shown on every page, from the same cache."""
    from citycarbon.web.views import verdict_view

    snapshot = web_state(request).source.snapshot()
    return snapshot.source.memo(snapshot.version, ("verdict", fmt.locale), lambda: verdict_view(snapshot, fmt))


def _server_error(request: Request, session) -> Response:
    return render(request, "error.html", {"error_kind": "server", "now": datetime.now(UTC)}, session=session,
                  status_code=500)


def _partial(request: Request, session, template: str, build) -> Response:
    refused = _gate(request, session)
    if refused is not None:
        return refused
    fmt = Formatter(locale_of(request))
    try:
        name, settings, _notes = read_query(request)
        context = build(fmt, name, settings)
    except InputError as error:  # 200 so that HTMX swaps the designed message in
        context = {"problem": _problem_of(error)}
    except Exception:
        log.exception("pathways fragment %s failed", request.url.path)
        context = {"failed": True}
    return render(request, template, {"part": {"problem": None, "failed": False, **context}}, session=session)


@router.get("/pathways/results", response_class=HTMLResponse)
def pathways_results(request: Request, session=Depends(current_session)) -> Response:
    built: dict = {}

    def build(fmt: Formatter, name: str, settings: dict[str, float]) -> dict:
        built.update(results_view(request, fmt, name, settings, read_basis(request)))
        return built

    response = _partial(request, session, "partials/pathways_results.html", build)
    if built.get("share_url") and response.status_code == 200:
        response.headers["HX-Replace-Url"] = built["share_url"]  # the address bar is the share link
    return response


@router.get("/pathways/wedges", response_class=HTMLResponse)
def pathways_wedges(request: Request, session=Depends(current_session)) -> Response:
    return _partial(request, session, "partials/pathways_wedges.html",
                    lambda fmt, name, settings: wedges_view(request, fmt, name, settings,
                                                            read_lmdi_year(request)))


@router.get("/pathways/ensemble", response_class=HTMLResponse)
def pathways_ensemble(request: Request, session=Depends(current_session)) -> Response:
    raw = request.query_params.get("runs") or str(DEFAULT_RUNS)
    runs = int(raw) if raw.isdigit() and int(raw) in ENSEMBLE_RUNS else DEFAULT_RUNS
    return _partial(request, session, "partials/pathways_ensemble.html",
                    lambda fmt, name, settings: ensemble_view(request, fmt, name, settings, runs))


# --- issue 17 (web): basis switch, non-fossil attribution, costs, MACC, what it takes -------------------------------
def read_basis(request: Request) -> str:
    """The ``basis`` of the query (:data:`BASIS_CHOICES`; default the accounting profile's rule); anything else
    raises :class:`InputError` naming the field."""
    raw = (request.query_params.get("basis") or DEFAULT_BASIS).strip()
    if raw not in BASIS_CHOICES:
        raise InputError(Problem(f"unknown CO2 basis '{raw[:40]}'", field="basis", value=raw[:40],
                                 suggestion=DEFAULT_BASIS))
    return raw


def _basis_chart(by_basis: dict, basis: str, names: dict[str, str], label: str, fmt: Formatter) -> dict:
    """CO2 of the comparison scenarios (dashed) and the current settings (last) on ``basis``."""
    rows = by_basis["scenarios"]
    lines = [{"name": names.get(r["name"], r["name"]), "dashed": True,
              "data": [round(v * 1e-4, 1) for v in r["co2"][basis]]} for r in rows[:-1]]
    lines.append({"name": label, "data": [round(v * 1e-4, 1) for v in rows[-1]["co2"][basis]]})
    return _line([str(y) for y in by_basis["years"]], lines, fmt.units["t"])


def _basis_rows(by_basis: dict, basis: str, fmt: Formatter) -> list[dict]:
    """One row per basis (and the rule) for the current settings: peak year, peak, plateau, net zero year."""
    mine = by_basis["scenarios"][-1]
    index = {y: i for i, y in enumerate(by_basis["years"])}
    rows = []
    for key in ("rule", *by_basis["bases"]):
        net_zero = mine["neutrality_year"][key]
        rows.append({"key": key, "selected": key == basis, "deciding": key == mine["deciding"],
                     "headline": key == "rule", "peak_year": mine["peak_year"][key],
                     "peak_value": fmt.quantity(mine["peak_value"][key], "t"),
                     "plateau_years": mine["plateau_years"][key],
                     "co2_2030": fmt.quantity(mine["co2"][key][index[2030]], "t") if 2030 in index else "–",
                     "net_2060": fmt.quantity(mine["net_co2"][key][-1], "t"),
                     "neutrality_year": fmt.year(net_zero) if net_zero else "–"})
    return rows


def _non_fossil_view(by_basis: dict, fmt: Formatter, label: str) -> dict | None:
    """The current settings' non-fossil share by attribution: grid average, local mix and the part the local
    levers add, as a chart and the 2030/2060 figures; None when the model carries no attribution series."""
    shares = by_basis["scenarios"][-1]["non_fossil"]
    if not shares:
        return None
    years = by_basis["years"]
    index = {y: i for i, y in enumerate(years)}
    titles = {"grid_average": _t(fmt, "Grid-average attribution"), "local_mix": _t(fmt, "Local-mix attribution"),
              "local_additions": _t(fmt, "What the local levers add")}
    keys = [k for k in ("grid_average", "local_mix", "local_additions") if k in shares]
    series = [{"name": titles[k], "data": [round(100 * v, 2) for v in shares[k]], "dashed": k == "local_additions"}
              for k in keys]
    figures = [{"key": k, "title": titles[k], "profile": k == by_basis["attribution"],
                "y2030": fmt.percent(shares[k][index[2030]]) if 2030 in index else "–",
                "y2060": fmt.percent(shares[k][index[2060]]) if 2060 in index else "–",
                "raw_2030": shares[k][index[2030]] if 2030 in index else None} for k in keys]
    return {"attribution": by_basis["attribution"], "label": label, "figures": figures,
            "chart": _line([str(y) for y in years], series, "%")}


#: the MACC's years (issue 17: the year switch)
MACC_YEARS = (2030, 2060)
#: the scenarios of the cost view, in this order, when shipped (plus the current settings when they differ)
COST_SCENARIOS = ("BAU", "Plan", "Enhanced", "Neutrality")
#: the Neutrality scenario's comparison (the "what it takes" view)
WHAT_IT_TAKES = ("Plan", "Neutrality")
#: the years of the annual cost differences in the "what it takes" view
WHAT_IT_TAKES_YEARS = (2030, 2060)


def _yi(fmt: Formatter, cny: float | None, digits: int = 1, signed: bool = False, per_year: bool = False) -> str:
    """A sum of money in 亿元 (10⁸ CNY; English: 100M CNY) with the unit (per year: 亿元/年, 100M CNY/yr)."""
    if cny is None:
        return "–"
    unit = ("亿元" if _zh(fmt) else "100M CNY") + (("/年" if _zh(fmt) else "/yr") if per_year else "")
    sign = "+" if signed and cny > 0 else ""
    return f"{sign}{fmt.decimal(cny / 1e8, digits)} {unit}"


def _unavailable(service: PathwayService, method: str) -> bool:
    """Whether the service lacks ``method`` (built by another part of issue 17); the view then says the data is
    not available instead of failing."""
    return not callable(getattr(service, method, None))


def costs_view(request: Request, fmt: Formatter, name: str, settings: dict[str, float]) -> dict:
    """NPV of every shipped scenario of :data:`COST_SCENARIOS` (and the current settings) against BAU, and the
    current settings' annual cost by sector against BAU (stacked, 亿元/yr): one call of
    :meth:`PathwayService.costs`."""
    service = _service(request)
    if _unavailable(service, "costs"):
        return {"unavailable": True}
    shipped = [n for n in COST_SCENARIOS if n in service.shipped_names()]
    scenario = service.resolve(name, settings)
    listed = [service.base_scenario(n) for n in shipped]
    mine = scenario.code not in {s.code for s in listed}
    result = service.costs([*listed, scenario] if mine else listed, versus="BAU")
    rows = []
    by_code = {}
    for i, doc in enumerate(result["scenarios"]):
        current = mine and i == len(result["scenarios"]) - 1
        label = fmt_label(service, fmt, name, True) if current else scenario_title(service, fmt, doc["scenario"])
        rows.append({"name": doc["scenario"], "label": label, "current": current or doc["code"] == scenario.code,
                     "npv": _yi(fmt, doc["npv_cny"], 0), "raw_npv": doc["npv_cny"],
                     "vs_bau": _yi(fmt, doc["npv_vs_versus_cny"], 0, signed=True),
                     "raw_vs_bau": doc["npv_vs_versus_cny"]})
        by_code[doc["code"]] = doc
    doc = by_code.get(scenario.code) or result["scenarios"][-1]
    chart_label = fmt_label(service, fmt, name, bool(settings))
    if doc["scenario"] == "BAU" and doc["code"] == result.get("versus_code"):  # BAU against itself: all zero
        default = getattr(service, "macc_default_scenario", None)
        other = default() if callable(default) else "Plan"
        doc = next((d for d in result["scenarios"] if d["scenario"] == other), doc)
        chart_label = scenario_title(service, fmt, doc["scenario"])
    years = result["years"]
    shown = [i for i, y in enumerate(years) if y > result["base_year"]]
    series = [{"name": fmt.label("cost-sector", s),
               "data": [round(doc["vs_versus"][f"cost_{s}_cny"][i] / 1e8, 2) for i in shown]}
              for s in result["sectors"] if f"cost_{s}_cny" in doc["vs_versus"]]
    unit = "亿元/年" if _zh(fmt) else "100M CNY/yr"
    chart = {"type": "stacked", "unit": unit, "categories": [str(years[i]) for i in shown], "series": series}
    rate = result.get("discount_rate")
    return {"unavailable": False, "rows": rows, "chart": chart, "code": scenario.code,
            "chart_label": chart_label,
            "discount_rate": fmt.percent(rate) if rate is not None else "–", "base_year": result["base_year"],
            "macc_years": MACC_YEARS}


def read_macc_year(request: Request) -> int:
    raw = (request.query_params.get("year") or str(MACC_YEARS[0])).strip()
    if not raw.isdigit() or int(raw) not in MACC_YEARS:
        raise InputError(Problem(f"the MACC year must be one of {', '.join(map(str, MACC_YEARS))}", field="year",
                                 value=raw[:40]))
    return int(raw)


def macc_view(request: Request, fmt: Formatter, name: str, settings: dict[str, float], year: int,
              basis: str) -> dict:
    """The MACC of the current settings against BAU in ``year`` (central case): variable-width bars sorted by
    cost per t (width: abatement, 万tCO₂/yr; height: 元/tCO₂), lever names in the page's language; one call of
    :meth:`PathwayService.macc`."""
    service = _service(request)
    if _unavailable(service, "macc"):
        return {"unavailable": True, "year": year}
    scenario = service.resolve(name, settings)
    if scenario.code == service.base_scenario("BAU").code:  # BAU against itself abates nothing: the default curve
        default = getattr(service, "macc_default_scenario", None)
        name, settings = (default() if callable(default) else "Plan"), {}
        scenario = service.resolve(name, settings)
    # the rule is no single basis: the MACC's own default basis then (it names the basis it used)
    # issue 17 (webunc): the ensemble's p5/p95 on the same draws (MACC_RUNS runs, seed MACC_SEED)
    found = service.macc(scenario, year, base="BAU", basis=basis, runs=MACC_RUNS, seed=MACC_SEED) \
        if basis != "rule" else service.macc(scenario, year, base="BAU", runs=MACC_RUNS, seed=MACC_SEED)
    result = found.to_dict()
    zh = _zh(fmt)
    names = {e["lever"]: (e.get("name_zh") if zh else e.get("name_en")) or e["lever"]
             for e in [*result["levers"], *result["off_curve"]]}
    bars = []
    for e in sorted(result["levers"], key=lambda e: (e["mac_cny_per_t"], e["lever"])):
        bars.append({"name": names[e["lever"]], "start": round((e["cumulative_start_t"] or 0.0) * 1e-4, 2),
                     "end": round((e["cumulative_end_t"] or 0.0) * 1e-4, 2),
                     "mac": round(e["mac_cny_per_t"], 1), "abatement": round(e["abatement_t"] * 1e-4, 2),
                     "cost": round(e["delta_cost_cny"] / 1e8, 2), **_macc_range(e)})
    unit_t = fmt.units["t"] + ("/年" if zh else "/yr")
    chart = {"type": "macc", "unit": "元/tCO₂" if zh else "CNY/t CO₂", "x_unit": unit_t,
             "categories": [b["name"] for b in bars], "series": [{"name": "MAC", "data": [b["mac"] for b in bars]}],
             "bars": bars, "labels": {"abatement": _t(fmt, "Abatement"), "mac": _t(fmt, "Cost per tonne avoided"),
                                      "cost": _t(fmt, "Annual cost against BAU"),
                                      "cost_unit": "亿元/年" if zh else "100M CNY/yr",
                                      "range": _t(fmt, "5th–95th percentile")}}
    chart.update(_macc_axis(bars))  # issue 17 (webunc): the value axis of the substantial bars
    rows = [{"name": b["name"], "abatement": f"{fmt.decimal(b['abatement'], 1)} {unit_t}",
             "mac": f"{fmt.decimal(b['mac'], 0)} {chart['unit']}",
             "cost": _yi(fmt, b["cost"] * 1e8, 1, True, per_year=True),
             "negative": b["mac"] < 0, **_macc_range_text(fmt, b, unit_t, str(chart["unit"]))} for b in bars]
    off = [{"name": names[e["lever"]], "reason": e.get("reason") or "",
            "abatement": f"{fmt.decimal(e['abatement_t'] * 1e-4, 1)} {unit_t}",
            "cost": _yi(fmt, e["delta_cost_cny"], 1, True, per_year=True)} for e in result["off_curve"]]
    package = result.get("package") or {}
    return {"unavailable": False, "year": year, "chart": chart, "rows": rows, "off_curve": off,
            "basis": result.get("basis"), "code": scenario.code, "empty": not bars,
            "package_abatement": f"{fmt.decimal((package.get('abatement_t') or 0.0) * 1e-4, 1)} {unit_t}",
            "package_cost": _yi(fmt, package.get("delta_cost_cny"), 1, True, per_year=True),
            "label": fmt_label(service, fmt, name, bool(settings)), "macc_years": MACC_YEARS,
            "runs": result.get("runs") or 0, "seed": result.get("seed")}


@router.get("/pathways/costs", response_class=HTMLResponse)
def pathways_costs(request: Request, session=Depends(current_session)) -> Response:
    return _partial(request, session, "partials/pathways_costs.html",
                    lambda fmt, name, settings: costs_view(request, fmt, name, settings))


@router.get("/pathways/macc", response_class=HTMLResponse)
def pathways_macc(request: Request, session=Depends(current_session)) -> Response:
    return _partial(request, session, "partials/pathways_macc.html",
                    lambda fmt, name, settings: macc_view(request, fmt, name, settings, read_macc_year(request),
                                                          read_basis(request)))


def what_it_takes_view(request: Request, fmt: Formatter) -> dict:
    """The Neutrality scenario against the Plan: one call of :meth:`PathwayService.what_it_takes`; the view says
    the data is not available where the service or the scenario is not there."""
    service = _service(request)
    base, target = WHAT_IT_TAKES
    if _unavailable(service, "what_it_takes") or target not in service.shipped_names():
        return {"unavailable": True}
    result = service.what_it_takes(base=base, target=target)
    return _what_it_takes_rows(service, fmt, result)


def _what_it_takes_rows(service: PathwayService, fmt: Formatter, result: dict) -> dict:
    """The view model of :meth:`PathwayService.what_it_takes`'s answer (docs/pathways.md "What it takes")."""
    zh = _zh(fmt)

    def name(item: dict | None, key: str = "id") -> str:
        if not item:
            return "–"
        return str((item.get("name_zh") or item.get("title_zh")) if zh else (item.get("name_en") or
                   item.get("title_en")) or item.get("name_zh") or item.get("title_zh") or item.get(key) or "–")

    def potential(p: dict | None) -> str | None:
        if not p:
            return None
        if p.get("value") is None:
            return name(p)
        unit = str(p.get("unit") or "")
        shown = fmt.percent(float(p["value"]), 0) if unit in ("dimensionless", "1", "") else \
            f"{fmt.decimal(float(p['value']), 0)} {fmt.units.get(unit, unit)}"
        return f"{name(p)} {shown}"

    levers = [{"id": lv["id"], "name": name(lv), "unit": fmt.units.get(lv.get("unit") or "", lv.get("unit") or ""),
               "base": _lever_value(fmt, float(lv["base"]), lv.get("unit") or ""),
               "target": _lever_value(fmt, float(lv["target"]), lv.get("unit") or ""),
               "group": (lv.get("group_title_zh") if zh else lv.get("group_title_en")) or "",
               "at_max": bool(lv.get("at_max")), "potential": potential(lv.get("potential"))}
              for lv in result.get("levers", [])]
    targets = []
    for t in result.get("targets", []):
        targets.append({"id": t["id"], "title": name(t), "base_met": t.get("base_met"),
                        "target_met": t.get("target_met"),
                        "margin": _margin(fmt, t.get("target_margin"), str(t.get("unit") or ""))})
    # the targets still out of reach: the service's explanation when it gives one (``unreachable`` rows or a
    # ``why`` mapping of target id to {text_zh, text_en}, as goal-seek words it), with the potentials that bind;
    # beside them the levers the Neutrality scenario takes to the limit of their potential
    at_limit = [lv["potential"] for lv in levers if lv["at_max"] and lv["potential"]]
    explained = {str(u.get("id") or u.get("target")): u for u in result.get("unreachable") or []}
    explained.update({str(k): v for k, v in (result.get("why") or {}).items() if isinstance(v, dict)})
    unreachable = []
    for t in targets:
        if t["target_met"] is not False:
            continue
        info = explained.get(t["id"], {})
        why = (info.get("why_zh") or info.get("text_zh")) if zh else (info.get("why_en") or info.get("text_en"))
        named = [potential(p) or name(p) for p in info.get("binding_potentials") or [] if isinstance(p, dict)]
        unreachable.append({"id": t["id"], "title": t["title"], "why": why or None, "binding": named})
    cost = result.get("cost") or {}
    npv = cost.get("npv") or {}
    sectors = cost.get("sectors") or []
    diffs = {year: ((cost.get("annual") or {}).get(str(year)) or {}).get("target_vs_base")
             for year in WHAT_IT_TAKES_YEARS}
    years = [y for y, d in diffs.items() if d is not None]
    annual = [{"key": key, "name": _t(fmt, "Total") if key == "total" else fmt.label("cost-sector", key),
               "cells": [_yi(fmt, (diffs[y] or {}).get(key), 1, signed=True, per_year=True) for y in years],
               "raw": [(diffs[y] or {}).get(key) for y in years]}
              for key in ("total", *sectors)]
    base, target = result.get("base") or {}, result.get("target") or {}
    met = result.get("met") or {}
    return {"unavailable": False, "levers": levers, "targets": targets, "unreachable": unreachable,
            "at_limit": at_limit,
            "base_name": scenario_title(service, fmt, str(base.get("name") or WHAT_IT_TAKES[0])),
            "target_name": scenario_title(service, fmt, str(target.get("name") or WHAT_IT_TAKES[1])),
            "npv_base": _yi(fmt, npv.get("base"), 0), "npv_target": _yi(fmt, npv.get("target"), 0),
            "npv_diff": _yi(fmt, npv.get("target_vs_base"), 0, signed=True), "raw_npv_diff": npv.get("target_vs_base"),
            "annual_years": years, "annual": annual,
            "met_base": met.get("base"), "met_target": met.get("target"), "met_total": met.get("total")}


@router.get("/pathways/what-it-takes", response_class=HTMLResponse)
def pathways_what_it_takes(request: Request, session=Depends(current_session)) -> Response:
    return _partial(request, session, "partials/pathways_what_it_takes.html",
                    lambda fmt, _name, _settings: what_it_takes_view(request, fmt))


# --- issue 17 (webunc): the MACC's ensemble ranges, the registry by technology, the LMDI beside the wedges ----------
#: ensemble runs and seed of the MACC's p5–p95 (``PathwayService.macc(..., runs=200)``: about 0.3 s)
MACC_RUNS = 200
MACC_SEED = 0
#: the years the by-sector LMDI of the gap can be shown for (default the first)
LMDI_YEARS = (2030, 2025, 2035, 2040, 2050, 2060)


def _macc_range(entry: dict) -> dict:
    """p5/p50/p95 of a MACC lever's cost per tonne (元/tCO₂) and p5/p95 of its abatement (万tCO₂/yr) for the
    chart's whiskers and tooltip; None where the ensemble gives none (no runs, or the lever never abates)."""
    pct = entry.get("percentiles") or {}
    mac, abatement = pct.get("mac_cny_per_t") or {}, pct.get("abatement_t") or {}

    def rounded(table: dict, key: str, factor: float, digits: int) -> float | None:
        value = table.get(key)
        return None if value is None else round(float(value) * factor, digits)

    return {"mac_p5": rounded(mac, "p5", 1.0, 1), "mac_p50": rounded(mac, "p50", 1.0, 1),
            "mac_p95": rounded(mac, "p95", 1.0, 1), "abatement_p5": rounded(abatement, "p5", 1e-4, 2),
            "abatement_p95": rounded(abatement, "p95", 1e-4, 2)}


#: a bar narrower than this share of the curve's width does not set the MAC axis (its MAC, a ratio over a
#: near-zero abatement, can be millions of CNY/t; the table and tooltip still give it)
MACC_AXIS_SHARE = 0.005


def _macc_axis(bars: list[dict]) -> dict:
    """``y_min``/``y_max`` of the MACC (元/tCO₂): the central costs per tonne of the bars with at least
    :data:`MACC_AXIS_SHARE` of the total abatement, with zero and a tenth of the span as margin, rounded outwards
    to half a power of ten of the span; taller bars
    and whiskers are clipped at the plot's edge. Empty without such bars."""
    width = sum(b["abatement"] for b in bars)
    shown = [b["mac"] for b in bars if width > 0 and b["abatement"] >= MACC_AXIS_SHARE * width]
    if not shown:
        return {}
    low, high = min(0.0, *shown), max(0.0, *shown)
    pad = 0.1 * ((high - low) or 1.0)
    low, high = (low - pad if low < 0 else low), (high + pad if high > 0 else high)
    step = 0.5 * 10.0 ** math.floor(math.log10(high - low))  # round outwards to half a power of ten
    return {"y_min": math.floor(low / step) * step, "y_max": math.ceil(high / step) * step}


def _macc_range_text(fmt: Formatter, bar: dict, unit_t: str, unit_mac: str) -> dict:
    """The table's ranges: abatement and cost per tonne, p5–p95 (empty without the ensemble)."""
    def span(low: float | None, high: float | None, digits: int, unit: str) -> str:
        if low is None or high is None:
            return ""
        return f"{fmt.decimal(low, digits)} – {fmt.decimal(high, digits)} {unit}"

    return {"abatement_range": span(bar.get("abatement_p5"), bar.get("abatement_p95"), 1, unit_t),
            "mac_range": span(bar.get("mac_p5"), bar.get("mac_p95"), 0, unit_mac),
            "mac_p5": bar.get("mac_p5"), "mac_p50": bar.get("mac_p50"), "mac_p95": bar.get("mac_p95")}


def read_lmdi_year(request: Request) -> int:
    """The ``lmdi_year`` of the query (:data:`LMDI_YEARS`, default 2030); anything else raises
    :class:`InputError` naming the field."""
    raw = (request.query_params.get("lmdi_year") or str(LMDI_YEARS[0])).strip()
    if not raw.isdigit() or int(raw) not in LMDI_YEARS:
        raise InputError(Problem(f"the LMDI year must be one of {', '.join(map(str, sorted(LMDI_YEARS)))}",
                                 field="lmdi_year", value=raw[:40]))
    return int(raw)


#: the LMDI's sectors and additive terms in the order of the table (docs/pathways.md "By sector")
LMDI_SECTORS = ("industry", "agriculture", "buildings_services", "buildings_households", "transport")
LMDI_TERMS = ("process", "ccus", "supply_remainder")


def _lmdi_view(fmt: Formatter, found: dict | None) -> dict | None:
    """The by-sector LMDI of the gap base → scenario in one year (``lmdi_between`` of
    :meth:`PathwayService.attribution`): effect by factor and sector, the additive terms, the total and the
    Shapley wedges' total in that year (they agree: docs/pathways.md)."""
    if not found:
        return None
    factors = list(found.get("factors") or [])
    by_sector = found.get("by_sector") or {}
    sectors = [s for s in LMDI_SECTORS if s in by_sector] + [s for s in by_sector if s not in LMDI_SECTORS]

    def q(value: float | None) -> str:
        return "–" if value is None else fmt.quantity(value, "t")

    rows = [{"key": s, "name": fmt.label("lmdi-sector", s), "cells": [q(by_sector[s].get(f)) for f in factors],
             "change": q(by_sector[s].get("change")), "raw_change": by_sector[s].get("change")} for s in sectors]
    other = found.get("other") or {}
    terms = [{"key": t, "name": fmt.label("lmdi-term", t), "change": q(other[t]), "raw_change": other[t]}
             for t in (*LMDI_TERMS, *(k for k in other if k not in LMDI_TERMS)) if t in other]
    additive = found.get("additive") or {}
    return {"year": found.get("year"), "factors": [fmt.label("lmdi-factor", f) for f in factors],
            "rows": rows, "terms": terms, "factor_totals": [q(additive.get(f)) for f in factors],
            "total": q(found.get("total_change")), "raw_total": found.get("total_change"),
            "wedges_total": q(found.get("wedges_total")), "raw_wedges_total": found.get("wedges_total")}


def _registry_table(fmt: Formatter, beside: dict | None) -> dict | None:
    """Per technology: the registry's grid-connected capacity in its last year, the pipeline by expected grid
    connection year, projects without a year, connected plus pipeline by 2030, and the scenario's capacity path
    (MW). None without a visible registry block."""
    if not beside:
        return None
    registry = beside["registry"]
    last = registry.get("last_year")
    years = beside["years"]
    index = {y: i for i, y in enumerate(years)}
    pipeline = registry.get("pipeline") or {}
    expected = sorted({int(y) for rows in pipeline.values() for y in rows})
    connected = registry.get("connected") or {}
    undated = registry.get("undated_by_technology") or {}
    path_years = [y for y in (last, 2030) if y in index]
    if len(path_years) == 2 and path_years[0] == path_years[1]:
        path_years = path_years[:1]

    def mw(value: float | None) -> str:
        return "–" if value is None else fmt.decimal(value, 0)

    rows = []
    for tech in beside["technologies"]:
        have = (connected.get(tech) or {})
        now = have.get(str(last)) if last is not None else None
        if now is None and have:
            now = have[max(have, key=int)]
        piped = {int(y): float(v) for y, v in (pipeline.get(tech) or {}).items()}
        by_2030 = (now or 0.0) + sum(v for y, v in piped.items() if y <= 2030)
        rows.append({"key": tech, "name": fmt.label("pathway-technology", tech), "connected": mw(now),
                     "raw_connected": now, "pipeline": [mw(piped.get(y)) if y in piped else "" for y in expected],
                     "undated": mw(undated.get(tech)) if undated.get(tech) else "",
                     "by_2030": mw(by_2030), "raw_by_2030": by_2030,
                     "path": [mw(beside["path"][tech][index[y]]) for y in path_years],
                     "raw_path": [beside["path"][tech][index[y]] for y in path_years]})
    return {"last_year": last, "statistics_year": registry.get("statistics_year"), "expected_years": expected,
            "path_years": path_years, "rows": rows, "starting_line": bool(registry.get("starting_line"))}
