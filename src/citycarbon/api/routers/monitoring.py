"""Online monitoring: HTTP ingest of meter readings and the read endpoints of the meter lake.

``POST /monitoring/readings`` takes ``{"readings": [{"point_id", "start", "end", "value", "unit"}], "batch_id"?}``
(ISO 8601 with offset) from an enterprise's write token (``Principal.can_write_enterprise``: the enterprise
itself, or an admin for any enterprise) and answers the counts and each rejected row's reason. Every batch —
stored, nothing new, or refused whole — is recorded in the store as a submission with its first 1 000 rejected
rows (``store/monitoring_submissions.py``); ``GET /monitoring/submissions`` and
``GET /monitoring/submissions/{id}/rejections`` show them with the same scoping as the reads below. A batch is at
most 10 000 readings (more → 413) and the body at most ``MAX_PAYLOAD_BYTES`` (→ 413 before it is parsed);
bad JSON or a wrong shape → 422 naming the field; nothing is stored on any refusal. Accepted rows of one
request are durable together before the answer (one lake batch). Every stored batch is audited.

Reads (``read`` rule, filtered by the caller): ``GET /monitoring/enterprises`` (district users: their regions;
enterprise users: their own), ``GET /monitoring/readings?point_id=&enterprise_id=&start=&end=`` (paginated,
latest revisions), ``GET /monitoring/rollups?period=&by=&start=&end=``. Another enterprise's or district's
objects read as absent (404 / empty), never as forbidden.

Every handler parses, calls one method of the app's :class:`citycarbon.services.monitoring.MonitoringService`
(``app.state.monitoring``: the store's registry cached until its version changes, the lake of the settings, the
caller's scope applied once) and renders the envelope. Without a registry the read endpoints answer empty lists
and ingest answers 404.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from citycarbon.api.deps import get_principal, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, provenance_meta, respond
from citycarbon.api.errors import ApiError, forbidden, not_found
from citycarbon.api.routers._common import page_params
from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, Problem
from citycarbon.monitoring.ingest import MAX_BATCH_ROWS, MAX_PAYLOAD_BYTES, BatchRefused
from citycarbon.services.monitoring import MonitoringService, NotFound, Sender

router = APIRouter(prefix="/monitoring", tags=["monitoring"])
PERMISSIONS = {
    ("POST", "/monitoring/readings"): "write",
    ("GET", "/monitoring/readings"): "read",
    ("GET", "/monitoring/enterprises"): "read",
    ("GET", "/monitoring/rollups"): "read",
    ("GET", "/monitoring/submissions"): "read",
    ("GET", "/monitoring/submissions/{submission_id}/rejections"): "read",
}


def service(request: Request) -> MonitoringService:
    """The app's monitoring service (created with the app; created here for an app built without it)."""
    state = request.app.state
    found = getattr(state, "monitoring", None)
    if found is None:
        found = state.monitoring = MonitoringService(state.settings, state.db)
    return found


@router.post("/readings", response_model=Envelope[dict[str, Any]],
             responses={413: {"description": "more than 10 000 readings, or a body over the size limit"},
                        403: {"description": "not an enterprise ingest token (or admin)"}})
async def post_readings(request: Request, principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Ingest a batch of readings (≤ 10 000) for the token's enterprise; idempotent by (point, start, end).

    Every batch of an enterprise — stored, all duplicates, all rejected, or refused whole — is recorded as a
    submission with its rejected rows (``GET /monitoring/submissions``); ``meta.submission_id`` names it."""
    sender = Sender.of(principal, _token_prefix(request))  # None: refused with 403 once the body is well-formed
    monitoring = service(request)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_PAYLOAD_BYTES:
        refused = BatchRefused(f"request body of {length} bytes exceeds {MAX_PAYLOAD_BYTES} bytes", too_large=True)
        if sender is not None:
            await run_in_threadpool(monitoring.record_refusal, sender, refused)
        raise ApiError(413, refused.reason)
    body = await request.body()
    outcome = await run_in_threadpool(_ingest, monitoring, body, sender)
    data = {k: v for k, v in outcome.report.to_dict().items() if k != "batch_id"}
    return respond(data, batch_id=outcome.report.batch_id, client_batch_id=outcome.client_batch_id,
                   submission_id=outcome.submission_id)


def _token_prefix(request: Request) -> str | None:
    from citycarbon.auth.tokens import parse_api_token

    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    return parse_api_token(value) if scheme.lower() == "bearer" else None


def _ingest(monitoring: MonitoringService, body: bytes, sender: Sender | None):
    """Parse, ingest and record one batch (in a worker thread: the event loop keeps receiving other bodies)."""
    from citycarbon.monitoring.ingest import parse_readings_payload

    if sender is None:
        try:  # a malformed body is a 422 before the 403, as before
            parse_readings_payload(body, max_rows=MAX_BATCH_ROWS, max_bytes=MAX_PAYLOAD_BYTES)
        except BatchRefused as refused:
            _refuse(refused)
        raise forbidden("readings are written with an enterprise's ingest token (or by an administrator)")
    try:
        return monitoring.ingest(body, sender)
    except BatchRefused as refused:
        _refuse(refused)
    except NotFound as missing:
        raise not_found(missing.what) from None


def _refuse(refused: BatchRefused):
    if refused.too_large:
        raise ApiError(413, refused.reason) from None
    raise InputError(Problem(refused.reason, file="body", field=refused.field)) from None


@router.get("/submissions", response_model=Envelope[list[dict[str, Any]]])
def get_submissions(request: Request, principal: Principal = Depends(get_principal),
                    enterprise_id: str | None = Query(None, max_length=200, description="one enterprise"),
                    channel: Literal["http", "mqtt", "file"] | None = Query(None),
                    status: Literal["stored", "nothing_new", "refused"] | None = Query(None),
                    pages: tuple[int, int] = Depends(page_params)) -> EnvelopeResponse:
    """Batches of readings received (HTTP, MQTT, CLI files), newest first, with exact counts; the caller's
    own (enterprise), its regions' enterprises' (district) or all (city office)."""
    page, per_page = pages
    found = service(request).submissions(principal, enterprise_id=enterprise_id, channel=channel, status=status,
                                         offset=(page - 1) * per_page, limit=per_page)
    return respond(found.rows, paging=paging(request, page, per_page, found.total)
                   | {"total_is_lower_bound": found.total_is_lower_bound})


@router.get("/submissions/{submission_id}/rejections", response_model=Envelope[list[dict[str, Any]]])
def get_submission_rejections(request: Request, submission_id: int = Path(ge=1, le=2**63 - 1),
                              principal: Principal = Depends(get_principal),
                              pages: tuple[int, int] = Depends(page_params)) -> EnvelopeResponse:
    """The rejected rows of a submission (row number in the batch, point, field, reason), in row order; the
    first 1 000 of a submission are kept (``meta.submission.rejected`` is the exact count)."""
    page, per_page = pages
    try:
        submission, rows = service(request).submission_rejections(principal, submission_id,
                                                                  offset=(page - 1) * per_page, limit=per_page)
    except NotFound as missing:
        raise not_found(missing.what) from None
    return respond(rows, paging=paging(request, page, per_page, submission["rejections_kept"]),
                   submission=submission)


@router.get("/enterprises", response_model=Envelope[list[dict[str, Any]]])
def get_enterprises(request: Request, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The key energy-using units the caller may see (district users: their regions; enterprises: their own)."""
    return respond(service(request).enterprises(principal))


@router.get("/readings", response_model=Envelope[list[dict[str, Any]]])
def get_readings(request: Request, principal: Principal = Depends(get_principal),
                 point_id: str | None = Query(None, max_length=200, description="one metering point"),
                 enterprise_id: str | None = Query(None, max_length=200, description="one enterprise"),
                 start: str | None = Query(None, max_length=40, description="ISO 8601 with offset (inclusive)"),
                 end: str | None = Query(None, max_length=40, description="ISO 8601 with offset (exclusive)"),
                 pages: tuple[int, int] = Depends(page_params)) -> EnvelopeResponse:
    """Latest revision of each reading of a point or an enterprise, oldest first, paginated."""
    page, per_page = pages
    try:
        found = service(request).readings(principal, point_id=point_id, enterprise_id=enterprise_id, start=start,
                                          end=end, offset=(page - 1) * per_page, limit=per_page)
    except NotFound as missing:
        raise not_found(missing.what) from None
    if found is None:
        return respond([], paging=paging(request, page, per_page, 0), hint="give point_id or enterprise_id")
    rows = [{"point_id": r.point_id, "start": r.start.isoformat(), "end": r.end.isoformat(),
             "value_raw": r.value_raw, "unit_raw": r.unit_raw, "energy": r.energy, "energy_unit": r.energy_unit,
             "revision": int(r.revision), "energy_flag": r.energy_flag or None,
             "received_at": r.received_at.isoformat()} for r in found.rows.itertuples()]
    return respond(rows, paging=paging(request, page, per_page, found.total))


@router.get("/rollups", response_model=Envelope[list[dict[str, Any]]])
def get_rollups(request: Request, principal: Principal = Depends(get_principal),
                period: Literal["hour", "day", "month"] = Query("month"),
                by: Literal["point", "enterprise", "industry", "district", "city"] = Query("enterprise"),
                enterprise_id: str | None = Query(None, max_length=200),
                start: str | None = Query(None, max_length=40, description="local date/time (inclusive)"),
                end: str | None = Query(None, max_length=40, description="local date/time (exclusive)"),
                ) -> EnvelopeResponse:
    """Energy, tce (calorific and coal-equivalent) and CO2 per local period, over the enterprises the caller
    may see (district users: their regions; enterprise users: their own)."""
    try:
        result = service(request).rollups(principal, period=period, by=by, enterprise_id=enterprise_id,
                                          start=start, end=end)
    except NotFound as missing:
        raise not_found(missing.what) from None
    if result is None:
        return respond([])
    return respond(result.frame.to_dict(orient="records"), **provenance_meta(result.provenance.to_dict()),
                   missing_factors=result.missing_factors or None)
