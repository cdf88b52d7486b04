"""The assessment board (考核评价, issue 16 item 5).

``/assessment``                                   the year's and scheme's run: the ranking as server-rendered SVG
                                                  bars with a table beside it (rank, unit, total, grade, the flags
                                                  估算 / 数据不全 / 一票否决), its state (draft with the objection
                                                  deadline, or published); the office runs a year and publishes.
``/assessment/{run_id}/{unit_code}``              one unit's breakdown: every item's value with its unit, points of
                                                  the maximum, the explanation and the evidence; the office's
                                                  adjustment of qualitative items (points and reason), the
                                                  adjustments' history, the unit's objections and their answers.
``POST /assessment/run``                          run the assessment of a year (the office).
``POST /assessment/{run_id}/publish``             publish a draft (the office; the run's version, a note).
``POST /assessment/{run_id}/{unit_code}/adjust``  set a qualitative item (the office; points, reason, version).
``POST /assessment/{run_id}/{unit_code}/object``  object to a draft score (the unit's own users, in the period).
``POST /assessment/{run_id}/objections/{objection_id}/answer``
                                                  the office's answer to an objection (accepted / rejected).

Scope is the service's (:mod:`citycarbon.services.assessment.runs`): units see their own draft row and the
published board, viewers the published board, enterprise users are refused (403). An id out of range answers 404
before anything else is read; every form checks the CSRF token; bad input re-shows the page with the problems
(422), a stale version or a closed period with the reason (409).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.errors import Conflict, Forbidden, InputError, NotFound
from citycarbon.web.app import locale_of, login_redirect, render, web_state, year_param
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import translate_problem
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)

#: ids the store can hold (a larger or non-positive one is no object: 404 before anything is read)
MAX_ID = 2**53
SCHEMES = ("district", "department")
#: the ranking chart's geometry (SVG user units)
BAR_LEFT, BAR_WIDTH, BAR_HEIGHT, BAR_GAP = 280, 420, 22, 8


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _error(request: Request, session: Any, kind: str, status: int) -> Response:
    return render(request, "error.html", {"error_kind": kind}, session=session, status_code=status)


def _id_ok(*ids: int) -> bool:
    return all(0 < value <= MAX_ID for value in ids)


def _dict(view: Any) -> dict[str, Any]:
    if view is None:
        return {}
    if isinstance(view, Mapping):
        return dict(view)
    return dict(view.to_dict())


def _pick(data: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        if key in data and data[key] is not None:
            return data[key]
    return default


def _number(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _assess_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One unit of a run's ranking, whatever the view calls its fields."""
    incomplete = _pick(row, "incomplete", default=())
    vetoed_by = _pick(row, "vetoed_by", default=())
    return {
        "unit_code": str(_pick(row, "unit_code", "unit", "code", default="")),
        "name_zh": str(_pick(row, "unit_name_zh", "name_zh", "unit_name", default="")),
        "name_en": str(_pick(row, "unit_name_en", "name_en", default="")),
        "kind": str(_pick(row, "unit_kind", "kind", default="")),
        "region_code": _pick(row, "region_code"),
        "rank": _pick(row, "rank"),
        "total": _number(_pick(row, "total")),
        "total_text": str(_pick(row, "total", default="")),
        "grade": str(_pick(row, "grade", default="")),
        "grade_zh": str(_pick(row, "grade_zh", default="")),
        "estimate": bool(_pick(row, "estimate", default=False)),
        "incomplete": bool(incomplete),
        "vetoed": bool(_pick(row, "vetoed", default=False)) or bool(vetoed_by),
        "state": _pick(row, "state"),
    }


def _assess_run(view: Any) -> dict[str, Any]:
    data = _dict(view)
    if isinstance(data.get("run"), Mapping):  # RunView: {"run": summary, "rows": [...], "complete": …}
        data = {**data["run"], **{k: v for k, v in data.items() if k != "run"}}
    rows = _pick(data, "rows", "units", "ranking", "scores", "board", default=[])
    if not isinstance(rows, list):
        rows = []
    run = {
        "id": _pick(data, "id", "run_id"),
        "year": _pick(data, "year"),
        "scheme": str(_pick(data, "scheme", "scheme_code", default="")),
        "scheme_version": _pick(data, "scheme_version"),
        "scheme_name_zh": str(_pick(data, "scheme_name_zh", "name_zh", default="")),
        "state": str(_pick(data, "state", default="draft")),
        "objection_until": _pick(data, "objection_until"),
        "ledger_version": _pick(data, "ledger_version"),
        "version": _pick(data, "version", default=1),
        "published_at": _pick(data, "published_at"),
        "published_by": _pick(data, "published_by"),
        "publish_note": str(_pick(data, "publish_note", "note", default="")),
        "created_at": _pick(data, "created_at"),
        "created_by": _pick(data, "created_by"),
        "rows": [_assess_row(r) for r in rows],
    }
    run["rows"].sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, -(r["total"] or 0)))
    return run


def _assess_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ranking as horizontal bars (SVG geometry computed here; the template draws it)."""
    top = max([100.0, *[r["total"] or 0 for r in rows]])
    bars = []
    for i, row in enumerate(rows):
        width = round(BAR_WIDTH * max(row["total"] or 0, 0) / top, 1)
        y = i * (BAR_HEIGHT + BAR_GAP)
        bars.append({**row, "x": BAR_LEFT, "y": y, "width": width, "label_y": y + BAR_HEIGHT * 0.7,
                     "value_x": BAR_LEFT + width + 6})
    ticks = [{"x": BAR_LEFT + round(BAR_WIDTH * t / top, 1), "value": t} for t in (0, 60, 80, 90, 100) if t <= top]
    height = max(1, len(rows)) * (BAR_HEIGHT + BAR_GAP) + 24
    return {"bars": bars, "ticks": ticks, "height": height, "width": BAR_LEFT + BAR_WIDTH + 60,
            "bar_height": BAR_HEIGHT, "axis_y": height - 20}


def _problems(error: InputError, locale: str) -> list[str]:
    out = []
    for p in error.problems:
        text = p.message_zh if locale.startswith("zh") and p.message_zh else translate_problem(locale, p)
        out.append(text)
    return out


def _conflict(error: Conflict | Forbidden, locale: str) -> list[str]:
    zh, _, en = error.message.partition(" / ")
    return [zh if locale.startswith("zh") or not en else en]


def _version(text: str) -> int:
    """The version a form carries (0 when missing or malformed: the service then refuses it as stale)."""
    return int(text) if text.isdigit() and len(text) < 10 else 0


# ---- the board ----------------------------------------------------------------------------------------------

def _board(request: Request, session: Any, *, year: int | None = None, scheme: str | None = None,
           run_id: int | None = None, notice: str | None = None, errors: list[str] | None = None,
           status_code: int = 200) -> Response:
    from citycarbon.services.assessment import runs

    principal = session.principal
    city = _city(request)
    db = web_state(request).db()
    q = request.query_params
    year = year or year_param(q.get("year"), request)
    if principal.role.value == "enterprise":
        return _error(request, session, "forbidden", 403)
    try:
        schemes = [_dict(s) for s in runs.list_schemes(db, principal, city)]
        known = {str(s.get("code")) for s in schemes} | set(SCHEMES)
        own = "department" if principal.role.value == "department" else "district"  # a department's own scheme
        scheme = scheme or (q.get("scheme") if q.get("scheme") in known else own)
        if run_id is not None:
            view = runs.get_run(db, principal, city, run_id)
        else:
            view = runs.latest_run(db, principal, city, year, scheme=scheme or "district")
        history = [_dict(r) for r in runs.list_runs(db, principal, city, year=year)]
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        if run_id is not None:
            return _error(request, session, "not_found", 404)
        view, history = None, []
    run = _assess_run(view) if view is not None else None
    if run is not None:
        year = run["year"] or year
        scheme = run["scheme"] or scheme
    codes = [str(_pick(s, "code", default="")) for s in schemes] or list(SCHEMES)
    this_year = date.today().year
    years = sorted({*range(2021, this_year + 1), year}, reverse=True)
    return render(request, "assessment/board.html", {
        "run": run, "chart": _assess_chart(run["rows"]) if run else None, "year": year, "scheme": scheme,
        "schemes": [{"code": c, "name_zh": str(_pick(next((s for s in schemes if s.get("code") == c), {}),
                                                       "name_zh", default=""))} for c in dict.fromkeys(codes)],
        "years": years, "history": [_assess_run(r) for r in history],
        "may_manage": principal.can_manage_assessment(city), "notice": notice, "errors": errors or [],
        "today": date.today().isoformat(),
    }, session=session, status_code=status_code)


@router.get("/assessment", response_class=HTMLResponse)
def board_page(request: Request, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    run_text = request.query_params.get("run") or ""
    if run_text:
        run_id = int(run_text) if run_text.isdigit() and len(run_text) < 17 else 0
        if not _id_ok(run_id):
            return _error(request, session, "not_found", 404)
        return _board(request, session, run_id=run_id, notice=request.query_params.get("done") or None)
    return _board(request, session)


def _assess_post(request: Request, session: Any, csrf_token: str, write: Callable[[Any], Any],
                 page: Callable[..., Response], done: Callable[[Any], Response] | None = None) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return _error(request, session, "csrf", 403)
    locale = locale_of(request)
    try:
        result = write(web_state(request).db())
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    except InputError as error:
        return page(errors=_problems(error, locale), status_code=422)
    except Conflict as error:
        return page(errors=_conflict(error, locale), status_code=409)
    if done is not None:
        return done(result)
    return page(notice="done")


@router.post("/assessment/run", response_class=HTMLResponse)
def run_assessment(request: Request, year: str = Form(""), scheme: str = Form("district"),
                   csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.assessment import runs

    chosen = year_param(year, request)
    kind = scheme.strip()[:64] or "district"

    def page(**kw: Any) -> Response:
        return _board(request, session, year=chosen, scheme=kind, **kw)

    def done(view: Any) -> Response:
        run_id = _assess_run(view)["id"]
        target = f"/assessment?run={run_id}&done=run" if run_id else f"/assessment?year={chosen}&scheme={kind}"
        return RedirectResponse(target, status_code=303)

    return _assess_post(request, session, csrf_token, lambda db: runs.run_assessment(
        db, session.principal, _city(request), chosen, scheme=kind), page, done)


@router.post("/assessment/{run_id}/publish", response_class=HTMLResponse)
def publish(request: Request, run_id: int, version: str = Form(""), note: str = Form(""), early: str = Form(""),
            csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    if not _id_ok(run_id):
        return _error(request, session, "not_found", 404)
    from citycarbon.services.assessment import runs

    def page(**kw: Any) -> Response:
        return _board(request, session, run_id=run_id, **kw)

    return _assess_post(request, session, csrf_token, lambda db: runs.publish(
        db, session.principal, _city(request), run_id, version=_version(version), note=note.strip()[:2000],
        early=early == "1"),
        page, lambda _view: RedirectResponse(f"/assessment?run={run_id}&done=published", status_code=303))


# ---- a unit's breakdown ---------------------------------------------------------------------------------------

def _assess_item(item: Mapping[str, Any]) -> dict[str, Any]:
    adjusted = item.get("adjusted")
    return {
        "code": str(_pick(item, "code", "indicator", default="")),
        "name_zh": str(_pick(item, "name_zh", default="")),
        "name_en": str(_pick(item, "name_en", default="")),
        "category": str(_pick(item, "category", default="")),
        "kind": str(_pick(item, "kind", default="")),
        "value": _number(item.get("value")) if item.get("value") is not None else _number(
            (item.get("fact") or {}).get("value") if isinstance(item.get("fact"), Mapping) else None),
        "unit": str(_pick(item, "unit", default="")),
        "points": str(_pick(item, "points", default="")),
        "max_points": str(_pick(item, "max_points", "max", default="")),
        "missing": bool(item.get("missing")), "vetoed": bool(item.get("vetoed")),
        "estimate": bool(item.get("estimate")),
        "adjusted": dict(adjusted) if isinstance(adjusted, Mapping) else None,
        "adjustable": bool(_pick(item, "adjustable", default=item.get("kind") == "qualitative")),
        "explanation_zh": str(_pick(item, "explanation_zh", "explanation", default="")),
        "note_zh": str(_pick(item, "note_zh", default="")),
        "evidence": [_assess_evidence(e) for e in item.get("evidence") or () if isinstance(e, Mapping)],
    }


#: evidence fields shown with a label (the rest is shown verbatim, as data)
EVIDENCE_FIELDS = ("series", "variable", "indicator", "target", "region", "year", "value", "unit", "status", "origin",
                   "source", "batch", "batch_id", "ledger_version", "round", "measure", "due", "filed", "item",
                   "level", "doc_number", "triggered_on", "rule", "code", "project", "finding", "decision_no",
                   "day", "capacity_mw", "document", "registered", "enterprises", "online", "unit_days", "passing",
                   "threshold", "milestone", "met", "weight", "estimate")
EVIDENCE_TEXTS = ("text_zh", "note_zh", "label_zh", "name_zh", "title_zh", "summary_zh", "finding_zh")


def _assess_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    texts = [str(evidence[k]) for k in EVIDENCE_TEXTS if evidence.get(k)]
    fields = [(k, evidence[k]) for k in EVIDENCE_FIELDS if evidence.get(k) not in (None, "", [], {})]
    shown = {"kind", *EVIDENCE_TEXTS, *EVIDENCE_FIELDS, "text_en", "note_en", "label_en", "name_en", "title_en"}
    rest = {k: v for k, v in evidence.items() if k not in shown and v not in (None, "", [], {})}
    return {"kind": str(evidence.get("kind") or ""), "texts": texts,
            "fields": [(k, ", ".join(map(str, v)) if isinstance(v, list | tuple) else v) for k, v in fields],
            "rest": ", ".join(f"{k}={v}" for k, v in rest.items())}


def _assess_unit(view: Any) -> dict[str, Any]:
    data = _dict(view)
    nested, summary = data.get("score"), data.get("run")
    score: dict[str, Any] = dict(nested) if isinstance(nested, Mapping) else data
    row = _assess_row({**score, **{k: v for k, v in data.items() if k not in ("items", "score")}})
    run: dict[str, Any] = dict(summary) if isinstance(summary, Mapping) else {}
    items = _pick(score, "items", default=[]) or _pick(data, "items", default=[])
    return {
        **row,
        "run_id": _pick(data, "run_id", default=_pick(run, "id")),
        "year": _pick(data, "year", default=_pick(run, "year")),
        "run_state": str(_pick(data, "run_state", default=_pick(run, "state", default=row["state"] or "draft"))),
        "objection_until": _pick(data, "objection_until", default=_pick(run, "objection_until")),
        "version": _pick(data, "run_version", "version", default=_pick(run, "version", default=1)),
        "scheme": str(_pick(data, "scheme", default=_pick(run, "scheme", default=""))),
        "lines": [_assess_item(i) for i in items if isinstance(i, Mapping)],
        "adjustments": [dict(a) for a in _pick(data, "adjustments", default=[]) if isinstance(a, Mapping)],
        "objections": [dict(o) for o in _pick(data, "objections", default=[]) if isinstance(o, Mapping)],
        "vetoed_by": list(_pick(score, "vetoed_by", default=[]) or []),
        "incomplete_items": list(_pick(score, "incomplete", default=[]) or []),
    }


def _unit_page(request: Request, session: Any, run_id: int, unit_code: str, *, notice: str | None = None,
               errors: list[str] | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.assessment import runs

    principal = session.principal
    city = _city(request)
    if principal.role.value == "enterprise":
        return _error(request, session, "forbidden", 403)
    try:
        view = runs.unit_score(web_state(request).db(), principal, city, run_id, unit_code)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    unit = _assess_unit(view)
    names = {i["code"]: i for i in unit["lines"]}
    for entry in (*unit["adjustments"], *unit["objections"]):  # the item's name beside its code
        item = names.get(str(entry.get("indicator") or ""))
        entry["item_zh"], entry["item_en"] = (item["name_zh"], item["name_en"]) if item else ("", "")
    unit["run_id"] = unit["run_id"] or run_id
    unit["unit_code"] = unit["unit_code"] or unit_code
    draft = unit["run_state"] == "draft"
    until = unit["objection_until"]
    in_period = draft and (not until or str(until)[:10] >= date.today().isoformat())
    may_object = bool(_pick(_dict(view), "can_object", default=in_period and principal.can_object_assessment(
        unit["unit_code"], unit["region_code"])))
    return render(request, "assessment/unit.html", {
        "unit": unit, "may_manage": principal.can_manage_assessment(city) and draft, "may_object": may_object,
        "notice": notice, "errors": errors or [], "indicator_names": _indicator_names(),
    }, session=session, status_code=status_code)


def _indicator_names() -> dict[str, tuple[str, str]]:
    """The indicator codelist's names (zh, en) for the series an evidence item names."""
    from citycarbon.plan import indicator_table

    table = indicator_table()
    return {str(r.indicator): (str(r.name_zh), str(r.name_en)) for r in table.itertuples()}


UNIT_CODE_MAX = 64


@router.get("/assessment/{run_id}/{unit}", response_class=HTMLResponse)
def unit_page(request: Request, run_id: int, unit: str, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    unit_code = unit
    if not _id_ok(run_id) or len(unit_code) > UNIT_CODE_MAX:
        return _error(request, session, "not_found", 404)
    notice = request.query_params.get("done")
    return _unit_page(request, session, run_id, unit_code, notice=notice if notice else None)


def _unit_post(request: Request, session: Any, run_id: int, unit_code: str, csrf_token: str,
               write: Callable[[Any], Any], done: str) -> Response:
    def page(**kw: Any) -> Response:
        return _unit_page(request, session, run_id, unit_code, **kw)

    return _assess_post(request, session, csrf_token, write, page, lambda _r: RedirectResponse(
        f"/assessment/{run_id}/{unit_code}?done={done}", status_code=303))


@router.post("/assessment/{run_id}/{unit}/adjust", response_class=HTMLResponse)
def adjust(request: Request, run_id: int, unit: str, indicator: str = Form(""), points: str = Form(""),
           reason: str = Form(""), version: str = Form(""), csrf_token: str = Form(""),
           session: Any = Depends(current_session)) -> Response:
    unit_code = unit
    if not _id_ok(run_id) or len(unit_code) > UNIT_CODE_MAX:
        return _error(request, session, "not_found", 404)
    from citycarbon.services.assessment import runs

    return _unit_post(request, session, run_id, unit_code, csrf_token, lambda db: runs.adjust(
        db, session.principal, _city(request), run_id, unit_code, indicator.strip()[:64], points=points.strip(),
        reason=reason.strip()[:2000], version=_version(version)), "adjusted")


@router.post("/assessment/{run_id}/{unit}/object", response_class=HTMLResponse)
def object_to(request: Request, run_id: int, unit: str, text: str = Form(""), indicator: str = Form(""),
              csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    unit_code = unit
    if not _id_ok(run_id) or len(unit_code) > UNIT_CODE_MAX:
        return _error(request, session, "not_found", 404)
    from citycarbon.services.assessment import runs

    return _unit_post(request, session, run_id, unit_code, csrf_token, lambda db: runs.object_to(
        db, session.principal, _city(request), run_id, unit_code, text=text.strip()[:4000],
        indicator=indicator.strip()[:64] or None), "objected")


@router.post("/assessment/{run_id}/objections/{objection_id}/answer", response_class=HTMLResponse)
def answer_objection(request: Request, run_id: int, objection_id: int, unit_code: str = Form(""),
                     decision: str = Form(""), answer: str = Form(""), csrf_token: str = Form(""),
                     session: Any = Depends(current_session)) -> Response:
    if not _id_ok(run_id, objection_id):
        return _error(request, session, "not_found", 404)
    from citycarbon.services.assessment import runs

    unit = unit_code.strip()[:UNIT_CODE_MAX]

    def page(**kw: Any) -> Response:
        if unit:
            return _unit_page(request, session, run_id, unit, **kw)
        return _board(request, session, run_id=run_id, **kw)

    target = f"/assessment/{run_id}/{unit}?done=answered" if unit else f"/assessment?run={run_id}&done=answered"
    return _assess_post(request, session, csrf_token, lambda db: runs.answer_objection(
        db, session.principal, _city(request), run_id, objection_id, decision=decision.strip()[:16],
        answer=answer.strip()[:4000]), page, lambda _r: RedirectResponse(target, status_code=303))
