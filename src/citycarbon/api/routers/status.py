"""Target tracking and early warning (status, warnings) and the districts' view, from the ledger.

District detail is filtered by the caller: admins and analysts see every district; a district user sees
only its own (another district's code answers 404, as an unknown one does); viewers and enterprises see the
city's aggregates only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from citycarbon.api.deps import get_principal, get_principal_async
from citycarbon.api.envelope import Envelope, EnvelopeResponse
from citycarbon.api.errors import not_found
from citycarbon.api.routers._common import cached, cached_async
from citycarbon.auth.principal import Principal
from citycarbon.services.tracking import status_report

router = APIRouter(tags=["status"])
PERMISSIONS = {("GET", "/status"): "read", ("GET", "/warnings"): "read", ("GET", "/districts"): "read",
               ("GET", "/districts/{code}"): "region"}

YEAR = Query(None, ge=1900, le=2100, description="year to report (default: the latest accounted year)")
MONTH = Query(None, ge=1, le=12, description="nowcast the year from monthly data through this month")


def _visible_key(principal: Principal) -> Any:
    if principal.city_wide:
        return "all"
    return tuple(sorted(principal.regions))


def _filter_districts(report: dict, principal: Principal) -> dict:
    if principal.city_wide or "districts" not in report:
        return report
    return {**report, "districts": [d for d in report["districts"] if principal.can_read_region(d["region"])]}


def _report(request: Request, version: int, year: int | None, month: int | None, region: str | None) -> dict:
    results = request.app.state.results
    data = results.city_data(version)
    year = year if year is not None else max(data.years)
    return results.memo(version, ("status", year, month, region), lambda: status_report(
        year, month=month, region=region, city=data.city, data=data))


def _meta(report: dict) -> dict:
    return {"method": "citycarbon.tracking", "estimates": report.get("estimates"),
            "parameters": {"rule_set": report.get("rule_set"), "rule_set_document": report.get("rule_set_document"),
                           "year": report.get("year"), "month": report.get("month")}}


def _check_region(request: Request, principal: Principal, region: str | None) -> str | None:
    if region is None:
        return None
    city_code = request.app.state.results.city_data(request.app.state.results.version()).region
    if region == city_code:
        return None
    if not principal.can_read_region(region):
        raise not_found("region")
    return region


@router.get("/status", response_model=Envelope[dict[str, Any]])
async def get_status(request: Request, year: int | None = YEAR, month: int | None = MONTH,
                     region: str | None = Query(None, max_length=12, pattern=r"^\d{6}$",
                                                description="district/county code (GB/T 2260)"),
                     principal: Principal = Depends(get_principal_async)) -> EnvelopeResponse:
    """Progress, 序时进度, projection and warning level (一级/二级/三级) of every plan target; with ``region``
    the district's allocated targets (404 unless the caller may read that district)."""
    if region is not None:
        region = await run_in_threadpool(_check_region, request, principal, region)

    def build(version: int) -> tuple[Any, dict]:
        report = _filter_districts(_report(request, version, year, month, region), principal)
        return report, _meta(report)

    return await cached_async(request, ("status", year, month, region, _visible_key(principal)), build)


@router.get("/warnings", response_model=Envelope[list[dict[str, Any]]])
def get_warnings(request: Request, year: int | None = YEAR, principal: Principal = Depends(get_principal)
                 ) -> EnvelopeResponse:
    """Every target with a warning level (city and the districts the caller may see), most severe first."""

    def build(version: int) -> tuple[Any, dict]:
        report = _filter_districts(_report(request, version, year, None, None), principal)
        rows = [{"region": report["region"], **{k: t.get(k) for k in (
            "id", "title_zh", "target_year", "target_value", "actual", "level", "colour", "reason", "reason_en")}}
            for t in report["targets"] if t.get("level") is not None]
        for district in report.get("districts", []):
            rows += [{"region": district["region"], "title_zh": None, "target_year": None, **t}
                     for t in district["targets"] if t.get("level") is not None]
        rows.sort(key=lambda r: (r["level"], r["region"], r["id"]))
        return rows, _meta(report)

    return cached(request, ("warnings", year, _visible_key(principal)), build)


@router.get("/districts", response_model=Envelope[list[dict[str, Any]]])
def list_districts(request: Request, year: int | None = YEAR, principal: Principal = Depends(get_principal)
                   ) -> EnvelopeResponse:
    """The districts the caller may see, with energy, GDP, intensity and their targets' warning levels."""

    def build(version: int) -> tuple[Any, dict]:
        report = _filter_districts(_report(request, version, year, None, None), principal)
        return report.get("districts", []), _meta(report)

    return cached(request, ("districts", year, _visible_key(principal)), build)


@router.get("/districts/{code}", response_model=Envelope[dict[str, Any]])
def get_district(request: Request, code: str = Path(max_length=12, pattern=r"^\d{6}$"), year: int | None = YEAR,
                 month: int | None = MONTH, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One district's allocated targets and warnings (404 for a district the caller may not read)."""
    version = request.app.state.results.version()
    data = request.app.state.results.city_data(version)
    from citycarbon.tracking.districts import district_codes

    if code == data.region or code not in district_codes(data.region) or not principal.can_read_region(code):
        raise not_found("district")

    def build(version: int) -> tuple[Any, dict]:
        report = _report(request, version, year, month, code)
        return report, _meta(report)

    return cached(request, ("district", code, year, month), build)
