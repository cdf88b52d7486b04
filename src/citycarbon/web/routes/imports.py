"""Data import: upload a statistics or energy-balance file → its problems (row and field) or a preview of what
approval would change → an admin approves (written to the ledger in one transaction) or anyone who may import
discards. Validation, storage and approval are the store's (:mod:`citycarbon.store.imports`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session, localized
from citycarbon.web.i18n import Formatter
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _refuse(request: Request, session) -> Response | None:
    principal = getattr(session, "principal", None)
    if principal is None:
        return login_redirect(request)
    if not principal.can_import_statistics():
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    return None


def _may_see(principal: Principal, batch: dict) -> bool:
    """City-wide roles see every batch; a district user only its own uploads."""
    return principal.city_wide or batch.get("uploaded_by") == principal.username


def _list_page(request: Request, session, *, errors: list[str] | None = None, status_code: int = 200) -> Response:
    from citycarbon.store import imports

    fmt = Formatter(locale_of(request))
    with web_state(request).db().session() as db:
        batches = [b for b in imports.list(db, limit=50) if _may_see(session.principal, b)]
    for batch in batches:
        batch["uploaded_local"] = fmt.datetime(batch["uploaded_at"])
    return render(request, "imports.html", {"batches": batches, "errors": errors or []}, session=session,
                  status_code=status_code)


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, session=Depends(current_session)) -> Response:
    return _refuse(request, session) or _list_page(request, session)


@router.post("/imports", response_class=HTMLResponse)
async def upload(request: Request, file: UploadFile | None = File(None), kind: str = Form(""),
                 csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    refused = _refuse(request, session)
    if refused:
        return refused
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)
    locale = locale_of(request)
    if file is None or not file.filename:
        return _list_page(request, session, status_code=422, errors=[localized(
            "请选择要上传的文件 / choose a file to upload", locale)])
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return _list_page(request, session, status_code=413, errors=[localized(
            "文件超过 20 MiB / the file is larger than 20 MiB", locale)])
    return await _store_upload(request, session, file.filename, content, kind or None)


async def _store_upload(request: Request, session, filename: str, content: bytes, kind: str | None) -> Response:
    from starlette.concurrency import run_in_threadpool

    from citycarbon.store import imports

    def create() -> dict:
        with web_state(request).db().session() as db:
            return imports.create_batch(db, filename=filename, content=content, actor=session.principal, kind=kind)

    try:
        batch = await run_in_threadpool(create)
    except InputError as error:
        return _list_page(request, session, status_code=422,
                          errors=[localized(p.message, locale_of(request)) for p in error.problems])
    return RedirectResponse(f"/imports/{batch['id']}", status_code=303)


def _batch_page(request: Request, session, batch_id: int, *, notice: str | None = None,
                errors: list[str] | None = None, status_code: int = 200) -> Response:
    from citycarbon.store import imports

    fmt = Formatter(locale_of(request))
    try:
        with web_state(request).db().session() as db:
            batch = imports.get(db, batch_id)
            preview = imports.preview(db, batch_id) if batch["status"] == "validated" else batch.get("preview")
    except InputError:
        batch = None
    if batch is None or not _may_see(session.principal, batch):
        return render(request, "error.html", {"error_kind": "not_found"}, session=session, status_code=404)
    batch["uploaded_local"] = fmt.datetime(batch["uploaded_at"])
    batch["approved_local"] = fmt.datetime(batch["approved_at"]) if batch.get("approved_at") else None
    outside = []
    if session.principal.role == "district" and preview and preview.get("regions"):
        outside = [r for r in preview["regions"] if r not in session.principal.regions]
    return render(request, "import_batch.html", {
        "batch": batch, "preview": preview or {}, "notice": notice, "errors": errors or [], "outside": outside,
    }, session=session, status_code=status_code)


@router.get("/imports/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, batch_id: int, session=Depends(current_session)) -> Response:
    approved = request.query_params.get("approved") == "1"
    return _refuse(request, session) or _batch_page(request, session, batch_id,
                                                    notice="approved" if approved else None)


@router.post("/imports/{batch_id}/approve", response_class=HTMLResponse)
def approve(request: Request, batch_id: int, reason: str = Form(""), csrf_token: str = Form(""),
            session=Depends(current_session)) -> Response:
    from citycarbon.store import imports

    refused = _refuse(request, session)
    if refused:
        return refused
    if not session.principal.can_approve_import():
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)
    try:
        with web_state(request).db().session() as db:
            imports.approve(db, batch_id, actor=session.principal, reason=reason.strip() or None)
    except InputError as error:
        return _batch_page(request, session, batch_id, status_code=409,
                           errors=[localized(p.message, locale_of(request)) for p in error.problems])
    results = web_state(request).source.results
    if results is not None:  # this process shows the new ledger version at once (not after the version TTL)
        results.refresh()
    return RedirectResponse(f"/imports/{batch_id}?approved=1", status_code=303)


@router.post("/imports/{batch_id}/discard", response_class=HTMLResponse)
def discard(request: Request, batch_id: int, reason: str = Form(""), csrf_token: str = Form(""),
            session=Depends(current_session)) -> Response:
    from citycarbon.store import imports

    refused = _refuse(request, session)
    if refused:
        return refused
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)
    visible = True
    try:
        with web_state(request).db().session() as db:
            try:
                visible = _may_see(session.principal, imports.get(db, batch_id))
            except InputError:
                visible = False
            if visible:
                imports.discard(db, batch_id, actor=session.principal, reason=reason.strip() or None)
    except InputError as error:
        return _batch_page(request, session, batch_id, status_code=409,
                           errors=[localized(p.message, locale_of(request)) for p in error.problems])
    if not visible:
        return render(request, "error.html", {"error_kind": "not_found"}, session=session, status_code=404)
    return RedirectResponse(f"/imports/{batch_id}", status_code=303)
