"""Report drafting and download (年度报告, issue 16 item 5).

``/reports``                         a year's report: the city report's narrative sections (edit forms for the
                                     office and analysts, each conditional on the section's version), the
                                     "generate DOCX / PDF / XLSX" form, the generation's progress (``?job=``), the
                                     list of generated documents (format, ledger version, generated at and by,
                                     sha256) with their downloads, and a unit's own report narrative (department
                                     and district users: their unit; the office: ``?org=``).
``/reports/progress?job=ID``         the job's progress (an HTMX fragment polled every second until it is done;
                                     without HTMX the page refreshes itself the same way through a link).
``/reports/documents/{doc_id}``      a generated document, as a download (its media type, Content-Disposition
                                     attachment with the file's name, nosniff).
``POST /reports/narratives``         save one narrative section (year, section, text, version; ``org`` for a
                                     unit's report).
``POST /reports/generate``           start the generation job (the formats chosen) and show its progress.

Scope is the services' (:mod:`citycarbon.services.reports`): every role but enterprise users reads and
downloads the city's reports; the office and analysts generate them and edit the city's narrative; a unit's users
edit their own unit's narrative. Every form checks the CSRF token; an unknown or another unit's id answers 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.errors import Conflict, Forbidden, InputError, NotFound
from citycarbon.web.app import locale_of, login_redirect, render, web_state, year_param
from citycarbon.web.backend import current_session, localized
from citycarbon.web.i18n import translate_problem
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)

MAX_ID = 2**53
FORMATS = ("docx", "pdf", "xlsx")
#: media types of the formats (used when the stored document does not say)
MEDIA_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               "pdf": "application/pdf",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
JOB_ID_MAX = 64


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _error(request: Request, session: Any, kind: str, status: int) -> Response:
    return render(request, "error.html", {"error_kind": kind}, session=session, status_code=status)


def _dict(view: Any) -> dict[str, Any]:
    if view is None:
        return {}
    if isinstance(view, Mapping):
        return dict(view)
    if hasattr(view, "to_dict"):
        return dict(view.to_dict())
    return dict(vars(view))


def _pick(data: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        if key in data and data[key] is not None:
            return data[key]
    return default


def _report_sections(view: Any) -> list[dict[str, Any]]:
    """The narrative sections, whatever the view calls its fields."""
    if isinstance(view, list | tuple):
        raw = [_dict(s) for s in view]
    else:
        data = _dict(view)
        raw = [_dict(s) for s in _pick(data, "sections", "narratives", default=[])]
    out = []
    for s in raw:
        out.append({
            "section": str(_pick(s, "section", "code", "key", default="")),
            "title_zh": str(_pick(s, "title_zh", "name_zh", "heading_zh", default="")),
            "title_en": str(_pick(s, "title_en", "name_en", "heading_en", default="")),
            "text": str(_pick(s, "text", "body", default="")),
            "prefill": str(_pick(s, "prefill", "default_text", "suggested", default="")),
            "edited": bool(_pick(s, "edited", default=bool(_pick(s, "version", default=0)))),
            "version": _pick(s, "version", default=0),
            "updated_by": _pick(s, "updated_by", "edited_by"),
            "updated_at": _pick(s, "updated_at", "edited_at"),
        })
    return out


def _report_document(view: Any) -> dict[str, Any]:
    d = _dict(view)
    fmt = str(_pick(d, "format", default="")).lower()
    return {
        "id": _pick(d, "id", "doc_id"), "format": fmt, "filename": str(_pick(d, "filename", default="")),
        "scope": str(_pick(d, "scope", default="city")), "org_code": str(_pick(d, "org_code", "org", default="")),
        "year": _pick(d, "year"), "ledger_version": _pick(d, "ledger_version"),
        "generated_at": _pick(d, "generated_at", "created_at"),
        "generated_by": _pick(d, "generated_by", "created_by", default=""),
        "sha256": str(_pick(d, "sha256", default="")), "size": _pick(d, "size"),
    }


def _unit_orgs(request: Request, principal: Any, city: str) -> list[dict[str, Any]]:
    """The units whose own report the caller edits (department: its organisation; district: its district's)."""
    if principal.role.value not in ("department", "district"):
        return []
    from citycarbon.services.governance import registry

    try:
        orgs = registry.list_orgs(web_state(request).db(), principal, city)
    except (Forbidden, NotFound):
        return []
    return [{"code": o.code, "name_zh": o.name_zh, "name_en": o.name_en} for o in orgs
            if o.kind in ("district", "pilot_zone", "department") and principal.can_file_for(o.code, o.region_code)]


def _page(request: Request, session: Any, *, year: int | None = None, org: str | None = None,
          job: str | None = None, notice: str | None = None, errors: list[str] | None = None,
          status_code: int = 200) -> Response:
    from citycarbon.services.reports import generate, narratives

    principal = session.principal
    city = _city(request)
    db = web_state(request).db()
    q = request.query_params
    if principal.role.value == "enterprise":
        return _error(request, session, "forbidden", 403)
    year = year or year_param(q.get("year"), request)
    org = org if org is not None else (q.get("org") or "")[:64]
    units = _unit_orgs(request, principal, city)
    if not org and units:
        org = units[0]["code"]
    try:
        sections = _report_sections(narratives.get_narratives(db, principal, city, year)) \
            if principal.can_generate_reports(city) else []
        unit_sections = _report_sections(narratives.get_narratives(db, principal, city, year, org=org)) \
            if org else []
        documents = [_report_document(d) for d in generate.list_documents(db, principal, city, year=year)]
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    this_year = date.today().year
    job = job if job is not None else (q.get("job") or "")[:JOB_ID_MAX]
    return render(request, "reports/index.html", {
        "year": year, "years": sorted({*range(2021, this_year + 1), year}, reverse=True),
        "sections": sections, "may_generate": principal.can_generate_reports(city),
        "org": org, "units": units, "unit_sections": unit_sections, "documents": documents,
        "job": _job_view(request, principal, job) if job else None, "formats": FORMATS,
        "may_generate_unit": bool(org) and any(u["code"] == org for u in units),
        "notice": notice or q.get("done") or None, "errors": errors or [],
    }, session=session, status_code=status_code)


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return _page(request, session)


def _job_view(request: Request, principal: Any, job_id: str) -> dict[str, Any] | None:
    """The job's status and progress, or None (unknown, another's job, no job runner)."""
    from citycarbon.services.jobs import get_job

    runner = getattr(request.app.state, "jobs", None)
    if runner is None or not job_id or len(job_id) > JOB_ID_MAX:
        return None
    try:
        info = get_job(runner, principal, job_id).to_dict()
    except (NotFound, Forbidden, InputError):
        return None
    progress = info.get("progress") or {}
    done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
    result = info.get("result")
    raw = _pick(result, "documents", "docs", default=[]) if isinstance(result, Mapping) else result
    ids = [d if isinstance(d, int) else _pick(d, "id") for d in raw or [] if isinstance(d, int | Mapping)]
    documents = []
    if ids and info.get("status") == "done":  # the stored documents the job made (their formats and names)
        from citycarbon.services.reports import generate

        try:
            found = generate.list_documents(web_state(request).db(), principal, _city(request),
                                            year=(info.get("params") or {}).get("year"))
        except (Forbidden, NotFound):
            found = []
        documents = [d for d in map(_report_document, found) if d["id"] in ids]
    return {"id": info.get("id") or job_id, "status": info.get("status") or "queued", "done": done, "total": total,
            "percent": round(100 * done / total) if total else (100 if info.get("status") == "done" else 0),
            "step": localized(str(progress.get("step") or ""), locale_of(request)), "error": info.get("error"),
            "documents": documents, "year": (info.get("params") or {}).get("year")}


@router.get("/reports/progress", response_class=HTMLResponse)
def progress(request: Request, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    if session.principal.role.value == "enterprise":
        return _error(request, session, "forbidden", 403)
    job_id = (request.query_params.get("job") or "")[:JOB_ID_MAX + 1]
    job = _job_view(request, session.principal, job_id) if job_id else None
    if job_id and job is None:
        return _error(request, session, "not_found", 404)
    htmx = request.headers.get("HX-Request") == "true"
    if htmx and job is not None and job["status"] in ("done", "failed") and request.query_params.get("in_page"):
        # the reports page polled it: reload that page, so that its list of documents shows the new ones
        year = f"year={job['year']}&" if job.get("year") else ""
        return Response(status_code=204, headers={"HX-Redirect": f"/reports?{year}job={quote(job['id'])}"})
    template = "reports/_progress.html" if htmx else "reports/progress.html"
    return render(request, template, {"job": job, "in_page": bool(request.query_params.get("in_page"))},
                  session=session)


def _csrf(request: Request, session: Any, token: str) -> Response | None:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    try:
        check_csrf(web_state(request).settings, request, session, token)
    except CsrfError:
        return _error(request, session, "csrf", 403)
    return None


def _problems(error: InputError, locale: str) -> list[str]:
    return [p.message_zh if locale.startswith("zh") and p.message_zh else translate_problem(locale, p)
            for p in error.problems]


def _message(error: Conflict | Forbidden, locale: str) -> list[str]:
    zh, _, en = error.message.partition(" / ")
    return [zh if locale.startswith("zh") or not en else en]


@router.post("/reports/narratives", response_class=HTMLResponse)
def save_narrative(request: Request, year: str = Form(""), section: str = Form(""), text: str = Form(""),
                   version: str = Form(""), org: str = Form(""), csrf_token: str = Form(""),
                   session: Any = Depends(current_session)) -> Response:
    refused = _csrf(request, session, csrf_token)
    if refused is not None:
        return refused
    from citycarbon.services.reports import narratives

    chosen = year_param(year, request)
    unit = org.strip()[:64] or None
    locale = locale_of(request)
    try:
        narratives.set_narrative(web_state(request).db(), session.principal, _city(request), chosen,
                                 section.strip()[:64], text[:20000], org=unit,
                                 version=int(version) if version.isdigit() and len(version) < 10 else 0)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    except InputError as error:
        return _page(request, session, year=chosen, org=unit, errors=_problems(error, locale), status_code=422)
    except Conflict as error:
        return _page(request, session, year=chosen, org=unit, errors=_message(error, locale), status_code=409)
    target = f"/reports?year={chosen}&done=saved" + (f"&org={quote(unit)}" if unit else "")
    return RedirectResponse(target + f"#section-{quote(section.strip()[:64])}", status_code=303)


@router.post("/reports/generate", response_class=HTMLResponse)
def generate_report(request: Request, year: str = Form(""), formats: list[str] = Form([]), org: str = Form(""),
                    csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    refused = _csrf(request, session, csrf_token)
    if refused is not None:
        return refused
    from citycarbon.services.reports import generate

    chosen = year_param(year, request)
    wanted = tuple(f for f in FORMATS if f in formats) or FORMATS
    unit = org.strip()[:64] or None
    runner = getattr(request.app.state, "jobs", None)
    locale = locale_of(request)
    if runner is None:  # a bare web app without the platform's job runner
        from datetime import UTC, datetime

        return render(request, "error.html", {"error_kind": "server", "now": datetime.now(UTC)}, session=session,
                      status_code=503)
    try:
        job_id = generate.submit_report(runner, web_state(request).db(), session.principal, _city(request), chosen,
                                        wanted, district=unit)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    except InputError as error:
        return _page(request, session, year=chosen, org=unit, errors=_problems(error, locale), status_code=422)
    except Conflict as error:
        return _page(request, session, year=chosen, org=unit, errors=_message(error, locale), status_code=409)
    target = f"/reports?year={chosen}&job={quote(str(job_id))}" + (f"&org={quote(unit)}" if unit else "")
    return RedirectResponse(target, status_code=303)


@router.get("/reports/documents/{doc_id}")
def download(request: Request, doc_id: int, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    if not 0 < doc_id <= MAX_ID:
        return _error(request, session, "not_found", 404)
    from citycarbon.services.reports import generate

    try:
        file = generate.get_document(web_state(request).db(), session.principal, _city(request), doc_id)
    except Forbidden:
        return _error(request, session, "forbidden", 403)
    except NotFound:
        return _error(request, session, "not_found", 404)
    content = next((getattr(file, name) for name in ("content", "data", "bytes", "body")
                    if isinstance(getattr(file, name, None), bytes)), b"")
    filename = str(getattr(file, "filename", "") or f"report-{doc_id}")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    media_type = str(getattr(file, "media_type", "") or MEDIA_TYPES.get(suffix, "application/octet-stream"))
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename) or "report"
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
