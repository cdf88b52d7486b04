"""The office's board, the 调度 summary of a round and each unit's yearly report (issue 14 items 6, 9, 10).

``GET /governance/board``                    tasks × units heat map, open rounds' progress, the overdue list
``GET /governance/rounds/{code}/summary``    the round's summary (JSON), or ``?format=xlsx|docx`` to download
``GET /governance/reports/{org}/{year}``     a unit's yearly 贯彻落实情况 report draft (JSON) or ``?format=docx``

Scope is the service's (:mod:`citycarbon.services.governance.summary`): the office and analysts see every unit;
a department or district user its own (another unit's report: 404); viewers the city aggregate; the XLSX/DOCX
of a round are the office's and analysts'.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from citycarbon.api.deps import get_database, get_principal
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.routers._common import IsoDate
from citycarbon.auth.principal import Principal
from citycarbon.services.governance import summary as service

router = APIRouter(tags=["governance"])
PERMISSIONS = {
    ("GET", "/governance/board"): "governance",
    ("GET", "/governance/rounds/{code}/summary"): "governance",
    ("GET", "/governance/reports/{org}/{year}"): "governance",
}

CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TODAY = Query(None, description="count overdue filings as of this day (default: today, China Standard Time)")


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


def _download(content: bytes, media: str, filename: str) -> Response:
    return Response(content, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


@router.get("/governance/board", response_model=Envelope[dict[str, Any]])
def get_board(request: Request, city: str | None = Query(None, pattern=CITY_PATTERN), today: IsoDate | None = TODAY,
              principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The board: each task × unit cell's level (the worst state of the unit's measures of that task in the
    latest round that gave it any: completed, in_progress, pending, not_started, lagging, overdue), the open
    rounds' progress (assigned, filed, accepted, late) and the overdue list. A department or district user
    gets its own unit's rows; a viewer the city aggregate (``task_levels``, ``city_progress``) only."""
    found = service.board(get_database(request), principal, _city(request, city), today=today)
    return respond(found.to_dict(), parameters={"city": _city(request, city)})


@router.get("/governance/rounds/{code}/summary", response_model=Envelope[dict[str, Any]],
            responses={200: {"content": {XLSX: {}, DOCX: {}}}})
def get_round_summary(request: Request, code: str = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
                      format: Literal["json", "xlsx", "docx"] = "json",
                      city: str | None = Query(None, pattern=CITY_PATTERN), today: IsoDate | None = TODAY,
                      principal: Principal = Depends(get_principal)) -> Response:
    """The 调度 summary of round ``code``: measures by status, units by on-time rate, lagging measures with
    their reasons, indicators against milestones, overdue filings. ``format=xlsx`` (sheets 概况, 措施进展,
    单位按时率, 滞后措施, 指标对照) or ``docx`` (GB/T 9704 layout): the office and analysts only."""
    db, where = get_database(request), _city(request, city)
    if format == "xlsx":
        return _download(service.round_summary_xlsx(db, principal, where, code, today=today), XLSX,
                         f"governance-{code}-summary.xlsx")
    if format == "docx":
        return _download(service.round_summary_docx(db, principal, where, code, today=today), DOCX,
                         f"governance-{code}-summary.docx")
    return respond(service.round_summary(db, principal, where, code, today=today).to_dict())


@router.get("/governance/reports/{org}/{year}", response_model=Envelope[dict[str, Any]],
            responses={200: {"content": {DOCX: {}}}})
def get_unit_report(request: Request, org: str = Path(pattern=r"^[a-z0-9][a-z0-9_]{0,63}$"),
                    year: int = Path(ge=2000, le=2100), format: Literal["json", "docx"] = "json",
                    city: str | None = Query(None, pattern=CITY_PATTERN),
                    principal: Principal = Depends(get_principal)) -> Response:
    """A unit's yearly 贯彻落实情况 report, drafted from its filings of the rounds ending in ``year`` (status,
    narratives, indicator values, lag reasons) and its supervision items. The unit itself and the office;
    another unit's report: 404."""
    db, where = get_database(request), _city(request, city)
    if format == "docx":
        _report, content = service.unit_report_docx(db, principal, where, org, year)
        return _download(content, DOCX, f"governance-report-{org}-{year}.docx")
    return respond(service.unit_report(db, principal, where, org, year).to_dict())
