"""Data import pages: upload a file of any importable table (energy balance — also in the statistics bureau's layout —,
statistics, capacity, process activity, forest, wetland, monthly series, district data, and every table the registry
marks ``import:``), with an Excel template per table to download → its problems (row and field) or a preview of what
approval would change → an admin approves (written to the ledger in one transaction) or the uploader or an admin
discards.

Every rule (who may upload which regions' rows, see, approve or discard which batch) is
:mod:`citycarbon.services.imports`'s, the same functions the API calls; these handlers check the login and the
form's CSRF token, call one service function and render. A refusal the page does not show itself (``NotFound``,
``Forbidden``) is rendered by the application's error handler as the HTML 404/403 page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.errors import Conflict, InputError, Problem
from citycarbon.services import imports as service
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session, localized
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: how many uploads the list page shows
LIST_LIMIT = 50


def _csrf_refused(request: Request, session, csrf_token: str) -> Response | None:
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)
    return None


def _problem_rows(problems: list[Problem], locale: str) -> list[dict]:
    return [{"row": p.row, "field": p.field, "value": p.value, "message": localized(p.message, locale)}
            for p in problems]


def _tables(locale: str) -> list[dict[str, str]]:
    """The importable tables of the registry: import name and title in the page's language."""
    from citycarbon.tables import import_tables

    zh = locale.startswith("zh")
    return [{"name": name, "title": spec.title_zh if zh else spec.title_en}
            for name, spec in import_tables().items()]


def _list_page(request: Request, session, *, errors: list[str] | None = None, problems: list[dict] | None = None,
               status_code: int = 200) -> Response:
    batches = service.list_batches(web_state(request).db(), session.principal, limit=LIST_LIMIT)
    return render(request, "imports.html", {"batches": batches, "errors": errors or [], "problems": problems or [],
                                            "tables": _tables(locale_of(request))},
                  session=session, status_code=status_code)


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, session=Depends(current_session)) -> Response:
    if session is None:
        return login_redirect(request)
    return _list_page(request, session)


@router.get("/imports/template")
def template_download(request: Request, dataset: str = "", session=Depends(current_session)) -> Response:
    """The Excel template of one dataset (every importable table without ``dataset``) as a download."""
    from citycarbon.services.templates import import_template

    if session is None:
        return login_redirect(request)
    try:
        template = import_template([dataset] if dataset else None)
    except InputError as error:
        return _list_page(request, session, status_code=422,
                          problems=_problem_rows(error.problems, locale_of(request)))
    return Response(template.content, media_type=template.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{template.filename}"',
                             "Cache-Control": "no-store"})


@router.post("/imports", response_class=HTMLResponse)
async def upload(request: Request, file: UploadFile | None = File(None), kind: str = Form(""),
                 mode: str = Form("keys"), csrf_token: str = Form(""),
                 session=Depends(current_session)) -> Response:
    from starlette.concurrency import run_in_threadpool

    if session is None:
        return login_redirect(request)
    refused = _csrf_refused(request, session, csrf_token)
    if refused:
        return refused
    service.require_importer(session.principal)  # a viewer hears 403 before its file is read,
    service.require_city(session.principal, web_state(request).settings.city)  # and so does another city's user
    locale = locale_of(request)
    if file is None or not file.filename:
        return _list_page(request, session, status_code=422, errors=[localized(
            "请选择要上传的文件 / choose a file to upload", locale)])
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return _list_page(request, session, status_code=413, errors=[localized(
            "文件超过 20 MiB / the file is larger than 20 MiB", locale)])
    try:
        batch = await run_in_threadpool(service.upload_batch, web_state(request).db(), session.principal,
                                        filename=file.filename, content=content, kind=kind or None,
                                        mode=mode or "keys")
    except InputError as error:  # nothing was stored (another district's rows, an empty file, a bad kind)
        return _list_page(request, session, status_code=422, problems=_problem_rows(error.problems, locale))
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


def _batch_page(request: Request, session, batch_id: int, *, notice: str | None = None,
                errors: list[str] | None = None, status_code: int = 200) -> Response:
    batch = service.get_batch(web_state(request).db(), session.principal, batch_id)
    preview = batch.preview_now if batch.status == "validated" else batch.preview
    return render(request, "import_batch.html", {"batch": batch, "preview": preview, "notice": notice,
                                                 "errors": errors or []}, session=session, status_code=status_code)


@router.get("/imports/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, batch_id: int, session=Depends(current_session)) -> Response:
    if session is None:
        return login_redirect(request)
    approved = request.query_params.get("approved") == "1"
    return _batch_page(request, session, batch_id, notice="approved" if approved else None)


@router.post("/imports/{batch_id}/approve", response_class=HTMLResponse)
def approve(request: Request, batch_id: int, reason: str = Form(""), csrf_token: str = Form(""),
            session=Depends(current_session)) -> Response:
    if session is None:
        return login_redirect(request)
    service.require_approver(session.principal)
    refused = _csrf_refused(request, session, csrf_token)
    if refused:
        return refused
    locale = locale_of(request)
    try:
        service.approve_batch(web_state(request).db(), session.principal, batch_id, reason=reason.strip() or None)
    except Conflict as error:
        return _batch_page(request, session, batch_id, status_code=409, errors=[localized(error.message, locale)])
    except InputError as error:  # e.g. rows outside the uploader's regions: named, nothing written
        return _batch_page(request, session, batch_id, status_code=422,
                           errors=[localized(p.message, locale) for p in error.problems])
    results = web_state(request).source.results
    if results is not None:  # this process shows the new ledger version at once (not after the version TTL)
        results.refresh()
    return RedirectResponse(f"/imports/{batch_id}?approved=1", status_code=303)


@router.post("/imports/{batch_id}/discard", response_class=HTMLResponse)
def discard(request: Request, batch_id: int, reason: str = Form(""), csrf_token: str = Form(""),
            session=Depends(current_session)) -> Response:
    if session is None:
        return login_redirect(request)
    refused = _csrf_refused(request, session, csrf_token)
    if refused:
        return refused
    try:
        service.discard_batch(web_state(request).db(), session.principal, batch_id, reason=reason.strip() or None)
    except Conflict as error:
        return _batch_page(request, session, batch_id, status_code=409,
                           errors=[localized(error.message, locale_of(request))])
    return RedirectResponse(f"/imports/{batch_id}", status_code=303)
