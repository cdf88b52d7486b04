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

The registry is the store's (``citycarbon.store.monitoring_registry``: PostgreSQL in production, the SQLite
file embedded; written by ``citycarbon monitoring registry import``), cached until its version changes; the lake
is ``settings.lake_dir``. Without a registry the read endpoints answer empty lists and ingest answers 404 for
every point.
"""

from __future__ import annotations

import logging
from threading import Lock
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from citycarbon.api.deps import get_principal, get_settings, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, provenance_meta, respond
from citycarbon.api.errors import ApiError, forbidden, not_found
from citycarbon.api.routers._common import page_params
from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import InputError, Problem
from citycarbon.monitoring.ingest import MAX_BATCH_ROWS, MAX_PAYLOAD_BYTES, BatchRefused, parse_readings_payload

router = APIRouter(prefix="/monitoring", tags=["monitoring"])
PERMISSIONS = {
    ("POST", "/monitoring/readings"): "write",
    ("GET", "/monitoring/readings"): "read",
    ("GET", "/monitoring/enterprises"): "read",
    ("GET", "/monitoring/rollups"): "read",
    ("GET", "/monitoring/submissions"): "read",
    ("GET", "/monitoring/submissions/{submission_id}/rejections"): "read",
}

log = logging.getLogger("citycarbon.api.monitoring")
_cache: dict[str, Any] = {}
_cache_lock = Lock()


def _registry(request: Request) -> Any | None:
    """The registry of the app's store (``store.monitoring_registry``), read again only when its version changed;
    None when no registry was ever imported."""
    from citycarbon.store.monitoring_registry import current_registry

    db = request.app.state.db
    version, registry = current_registry(db)
    if registry is None:
        return None
    stamp = (db.key, version)
    with _cache_lock:
        if _cache.get("stamp") != stamp:
            from citycarbon.monitoring.ingest import point_table

            _cache.update(stamp=stamp, registry=registry, points=point_table(registry))
        return _cache["registry"]


def _lake(request: Request):
    """The lake of the app's settings (one object per directory: opening it creates the ledger tables)."""
    from citycarbon.monitoring.lake import Lake

    settings = get_settings(request)
    key = (str(settings.lake_dir), settings.lake_ledger_url)
    with _cache_lock:
        lakes = _cache.setdefault("lakes", {})
        if key not in lakes:
            lakes[key] = Lake.for_settings(settings)
        return lakes[key]


def _visible_enterprises(registry: Any, principal: Principal) -> pd.DataFrame:
    frame = registry.enterprises
    allowed = [principal.can_read_enterprise(str(e), str(r)) for e, r in zip(frame["enterprise_id"],
                                                                              frame["region"], strict=True)]
    return frame[allowed]


@router.post("/readings", response_model=Envelope[dict[str, Any]],
             responses={413: {"description": "more than 10 000 readings, or a body over the size limit"},
                        403: {"description": "not an enterprise ingest token (or admin)"}})
async def post_readings(request: Request, principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Ingest a batch of readings (≤ 10 000) for the token's enterprise; idempotent by (point, start, end).

    Every batch of an enterprise — stored, all duplicates, all rejected, or refused whole — is recorded as a
    submission with its rejected rows (``GET /monitoring/submissions``); ``meta.submission_id`` names it."""
    if principal.role is Role.enterprise and principal.can_write_enterprise(str(principal.enterprise_id)):
        sender: _Sender | None = _Sender(principal, str(principal.enterprise_id), _token_prefix(request))
    elif principal.is_admin and principal.can_write:  # the city office may backfill for any enterprise
        sender = _Sender(principal, None, _token_prefix(request))
    else:
        sender = None  # refused with 403 once the body is known to be well-formed (as before)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_PAYLOAD_BYTES:
        refused = BatchRefused(f"request body of {length} bytes exceeds {MAX_PAYLOAD_BYTES} bytes", too_large=True)
        if sender is not None:
            await run_in_threadpool(_record_refusal, request, sender, refused)
        raise ApiError(413, refused.reason)
    body = await request.body()
    report, batch_id, submission_id = await run_in_threadpool(_ingest, request, body, sender)
    data = {k: v for k, v in report.to_dict().items() if k != "batch_id"}
    return respond(data, batch_id=report.batch_id, client_batch_id=batch_id, submission_id=submission_id)


class _Sender:
    """Who sent a batch: the principal, the enterprise the batch is restricted to (None: an administrator's
    batch for any enterprise) and the API token's public prefix."""

    def __init__(self, principal: Principal, enterprise_id: str | None, token_prefix: str | None):
        self.principal, self.enterprise_id, self.token_prefix = principal, enterprise_id, token_prefix


def _token_prefix(request: Request) -> str | None:
    from citycarbon.auth.tokens import parse_api_token

    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    return parse_api_token(value) if scheme.lower() == "bearer" else None


def _record_refusal(request: Request, sender: _Sender, refused: BatchRefused) -> int | None:
    """Record a batch refused whole (too large, bad JSON, wrong shape) as a submission; returns its id. A store
    failure is logged and the caller still gets its 413/422 (the refusal, not the record, is the answer)."""
    from citycarbon.store.monitoring_submissions import record_submission

    try:
        with request.app.state.db.session(write=True) as session:
            return record_submission(session, channel="http", submitted_by=sender.principal.username,
                                     enterprise_id=sender.enterprise_id, token_prefix=sender.token_prefix,
                                     rows_received=0, source=f"http:{sender.principal.username}",
                                     refusal=refused.reason if refused.field is None
                                     else f"{refused.field}: {refused.reason}")
    except Exception:
        log.exception("recording the refused batch of %s failed", sender.principal.username)
        return None


def _batch_enterprise(registry: Any, frame: pd.DataFrame) -> str | None:
    """The one enterprise whose registered points an administrator's batch names (None: none or several)."""
    owners = registry.points.set_index("point_id")["enterprise_id"]
    named = pd.unique(frame["point_id"][frame["point_id"].isin(owners.index)])
    found = set(owners.loc[named].astype(str)) if len(named) else set()
    return found.pop() if len(found) == 1 else None


def _ingest(request: Request, body: bytes, sender: _Sender | None):
    """Parse, ingest and record one batch (in a worker thread: the event loop keeps receiving other bodies)."""
    from citycarbon.monitoring.ingest import ingest_frame
    from citycarbon.store.monitoring_submissions import record_submission

    try:
        frame, batch_id = parse_readings_payload(body, max_rows=MAX_BATCH_ROWS, max_bytes=MAX_PAYLOAD_BYTES)
    except BatchRefused as refused:
        if sender is not None:
            _record_refusal(request, sender, refused)
        if refused.too_large:
            raise ApiError(413, refused.reason) from None
        raise InputError(Problem(refused.reason, file="body", field=refused.field)) from None
    if sender is None:
        raise forbidden("readings are written with an enterprise's ingest token (or by an administrator)")
    registry = _registry(request)
    if registry is None:
        raise not_found("monitoring registry")
    principal, enterprise_id = sender.principal, sender.enterprise_id
    report = ingest_frame(_lake(request), registry, frame, source=f"http:{principal.username}",
                          enterprise_id=enterprise_id, batch_id=batch_id, points=_cache.get("points"),
                          future_margin=get_settings(request).monitoring_future_margin)
    owner = enterprise_id if enterprise_id is not None else _batch_enterprise(registry, frame)
    counts = {"accepted": report.accepted, "revised": report.revised, "duplicate": report.duplicate,
              "rejected": report.rejected}
    with request.app.state.db.session(write=True) as session:
        submission_id = record_submission(
            session, channel="http", submitted_by=principal.username, enterprise_id=owner,
            token_prefix=sender.token_prefix, client_batch_id=batch_id, lake_batch_id=report.batch_id,
            source=f"http:{principal.username}", rows_received=report.rows, counts=counts,
            rejected_rows=report.rejected_rows)
        if report.batch_id is not None:
            from citycarbon.store import audit

            audit.record(session, principal, "ingest", "meter_readings", report.batch_id,
                         after={**counts, "enterprise_id": enterprise_id, "client_batch_id": batch_id,
                                "submission_id": submission_id},
                         reason="monitoring readings batch")
    return report, batch_id, submission_id


def _submission_scope(request: Request, principal: Principal) -> set[str] | None:
    """The enterprises whose submissions the caller may see: None for the city office (admin, analyst), the
    own enterprise for an enterprise user, the registry's enterprises of its regions for a district user,
    none for a viewer."""
    if principal.city_wide:
        return None
    if principal.role is Role.enterprise:
        return {str(principal.enterprise_id)}
    if principal.role is Role.district:
        registry = _registry(request)
        return set() if registry is None else set(_visible_enterprises(registry, principal)["enterprise_id"]
                                                  .astype(str))
    return set()


#: submissions counted for the paging total at most (beyond it the total says "at least"; the pages go on)
SUBMISSIONS_COUNT_LIMIT = 100_000


@router.get("/submissions", response_model=Envelope[list[dict[str, Any]]])
def get_submissions(request: Request, principal: Principal = Depends(get_principal),
                    enterprise_id: str | None = Query(None, max_length=200, description="one enterprise"),
                    channel: Literal["http", "mqtt", "file"] | None = Query(None),
                    status: Literal["stored", "nothing_new", "refused"] | None = Query(None),
                    pages: tuple[int, int] = Depends(page_params)) -> EnvelopeResponse:
    """Batches of readings received (HTTP, MQTT, CLI files), newest first, with exact counts; the caller's
    own (enterprise), its regions' enterprises' (district) or all (city office)."""
    from citycarbon.store.monitoring_submissions import list_submissions

    page, per_page = pages
    scope = _submission_scope(request, principal)
    with request.app.state.db.session() as session:
        rows, total = list_submissions(session, enterprise_ids=scope, enterprise_id=enterprise_id,
                                       channel=channel, status=status, limit=per_page,
                                       offset=(page - 1) * per_page, count_limit=SUBMISSIONS_COUNT_LIMIT)
    more = total > SUBMISSIONS_COUNT_LIMIT  # counted up to the limit: "at least" instead of a full count
    shown = (page - 1) * per_page + len(rows)
    # beyond the limit the pages go on: a full page always links to a next one
    counted = max(SUBMISSIONS_COUNT_LIMIT, shown + (len(rows) == per_page)) if more else total
    return respond(rows, paging=paging(request, page, per_page, counted) | {"total_is_lower_bound": more})


@router.get("/submissions/{submission_id}/rejections", response_model=Envelope[list[dict[str, Any]]])
def get_submission_rejections(request: Request, submission_id: int = Path(ge=1, le=2**63 - 1),
                              principal: Principal = Depends(get_principal),
                              pages: tuple[int, int] = Depends(page_params)) -> EnvelopeResponse:
    """The rejected rows of a submission (row number in the batch, point, field, reason), in row order; the
    first 1 000 of a submission are kept (``meta.submission.rejected`` is the exact count)."""
    from citycarbon.store.monitoring_submissions import get_submission, list_rejections

    page, per_page = pages
    with request.app.state.db.session() as session:
        submission = get_submission(session, submission_id, enterprise_ids=_submission_scope(request, principal))
        if submission is None:
            raise not_found("submission")
        rows = list_rejections(session, submission_id, limit=per_page, offset=(page - 1) * per_page)
    return respond(rows, paging=paging(request, page, per_page, submission["rejections_kept"]),
                   submission=submission)


@router.get("/enterprises", response_model=Envelope[list[dict[str, Any]]])
def get_enterprises(request: Request, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The key energy-using units the caller may see (district users: their regions; enterprises: their own)."""
    registry = _registry(request)
    if registry is None:
        return respond([])
    frame = _visible_enterprises(registry, principal)
    points = registry.points.groupby("enterprise_id").size()
    rows = [{**{k: row[k] for k in ("enterprise_id", "name", "uscc", "industry_code", "region", "tier",
                                     "annual_budget_tce", "budget_year") if k in frame.columns},
             "points": int(points.get(row["enterprise_id"], 0))} for _, row in frame.iterrows()]
    return respond(rows)


@router.get("/readings", response_model=Envelope[list[dict[str, Any]]])
def get_readings(request: Request, principal: Principal = Depends(get_principal),
                 point_id: str | None = Query(None, max_length=200, description="one metering point"),
                 enterprise_id: str | None = Query(None, max_length=200, description="one enterprise"),
                 start: str | None = Query(None, max_length=40, description="ISO 8601 with offset (inclusive)"),
                 end: str | None = Query(None, max_length=40, description="ISO 8601 with offset (exclusive)"),
                 pages: tuple[int, int] = Depends(page_params)) -> EnvelopeResponse:
    """Latest revision of each reading of a point or an enterprise, oldest first, paginated."""
    from citycarbon.monitoring.lake import read_readings

    page, per_page = pages
    registry = _registry(request)
    if registry is None:
        return respond([], paging=paging(request, page, per_page, 0))
    if point_id is None and enterprise_id is None and principal.role is Role.enterprise:
        enterprise_id = principal.enterprise_id
    if point_id is None and enterprise_id is None:
        return respond([], paging=paging(request, page, per_page, 0),
                       hint="give point_id or enterprise_id")
    visible = set(_visible_enterprises(registry, principal)["enterprise_id"].astype(str))
    points = None
    if point_id is not None:
        owner = registry.points.loc[registry.points["point_id"] == point_id, "enterprise_id"]
        if owner.empty or str(owner.iloc[0]) not in visible:
            raise not_found("point")
        enterprise_id, points = str(owner.iloc[0]), [point_id]
    elif str(enterprise_id) not in visible:
        raise not_found("enterprise")
    try:
        frame = read_readings(_lake(request), enterprise=enterprise_id, points=points, start=start, end=end)
    except ValueError as exc:
        raise InputError(Problem(str(exc), field="start/end")) from None
    total = len(frame)
    window = frame.iloc[(page - 1) * per_page: page * per_page]
    rows = [{"point_id": r.point_id, "start": r.start.isoformat(), "end": r.end.isoformat(),
             "value_raw": r.value_raw, "unit_raw": r.unit_raw, "energy": r.energy, "energy_unit": r.energy_unit,
             "revision": int(r.revision), "energy_flag": r.energy_flag or None,
             "received_at": r.received_at.isoformat()} for r in window.itertuples()]
    return respond(rows, paging=paging(request, page, per_page, total))


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
    from citycarbon.monitoring.registry import Registry
    from citycarbon.monitoring.rollup import rollup

    registry = _registry(request)
    if registry is None:
        return respond([])
    visible = _visible_enterprises(registry, principal)
    if enterprise_id is not None:
        if enterprise_id not in set(visible["enterprise_id"].astype(str)):
            raise not_found("enterprise")
        visible = visible[visible["enterprise_id"].astype(str) == enterprise_id]
    if visible.empty:
        return respond([])
    ids = set(visible["enterprise_id"].astype(str))
    scoped = Registry(visible, registry.points[registry.points["enterprise_id"].astype(str).isin(ids)],
                      registry.products[registry.products["enterprise_id"].astype(str).isin(ids)],
                      timezone=registry.timezone)
    try:
        result = rollup(_lake(request), scoped, period=period, by=by, start=start, end=end,
                        enterprise=enterprise_id, region=None)
    except ValueError as exc:
        raise InputError(Problem(str(exc), field="start/end")) from None
    return respond(result.frame.to_dict(orient="records"), **provenance_meta(result.provenance.to_dict()),
                   missing_factors=result.missing_factors or None)

