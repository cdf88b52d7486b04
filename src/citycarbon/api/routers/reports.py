"""The yearly reports (issue 16): generation as a job, the stored documents, the editable narrative.

``POST /reports/generate``                        202 + job id + poll URL (``year``, ``formats``, ``district``)
``GET  /reports/documents``                       the stored documents the caller may read (``?year=``)
``GET  /reports/documents/{doc_id}``              one document's bytes (DOCX, PDF, XLSX; RFC 5987 filename)
``GET  /reports/{year}/narratives``               the city's (or ``?org=`` a unit's) narrative sections
``PUT  /reports/narratives``                       edit one section (``year``, ``section``, ``org``, ``version``:
                                                  the one read, stale → 409; ``text``)

Scope is the service's (:mod:`citycarbon.services.reports`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.api.deps import get_database, get_principal, require_write
from citycarbon.api.envelope import Envelope, EnvelopeResponse, respond
from citycarbon.api.routers._common import JsonInt
from citycarbon.auth.principal import Principal
from citycarbon.services.reports import generate, narratives

router = APIRouter(tags=["reports"])
PERMISSIONS = {
    ("POST", "/reports/generate"): "write",
    ("GET", "/reports/documents"): "read",
    ("GET", "/reports/documents/{doc_id}"): "read",
    ("GET", "/reports/{year}/narratives"): "governance",
    ("PUT", "/reports/narratives"): "write",
}

CITY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
ORG_PATTERN = r"^[a-z0-9][a-z0-9_]{0,63}$"
YEAR = Path(ge=2000, le=2100)


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: JsonInt = Field(ge=2000, le=2100, description="the year reported")
    formats: list[str] = Field(default_factory=lambda: list(generate.FORMATS), min_length=1, max_length=3,
                               description="docx, pdf, xlsx")
    district: str | None = Field(None, pattern=r"^[A-Za-z0-9_]{1,64}$",
                                 description="a GB/T 2260 code or an organisation code: that unit's own report")
    ledger_version: JsonInt | None = Field(None, ge=0, description="default: the current ledger version")


class NarrativeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: JsonInt = Field(ge=2000, le=2100, description="the year reported")
    section: str = Field(pattern=r"^[a-z_]{1,64}$", description="doc_number, overview, problems, next_year")
    org: str | None = Field(None, pattern=ORG_PATTERN, description="a unit's organisation code (None: the city's)")
    version: JsonInt = Field(ge=0, description="the version you read (0: the pre-filled draft); stale → 409")
    text: str = Field(min_length=1, max_length=narratives.MAX_TEXT)


def _city(request: Request, city: str | None) -> str:
    return city or request.app.state.results.city


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name (RFC 6266 / RFC 5987 ``filename*``)."""
    suffix = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    ascii_name = "".join(c for c in filename if c.isascii() and (c.isalnum() or c in "-_.")).strip(".") or "report"
    if not ascii_name.endswith(f".{suffix}"):
        ascii_name = f"report.{suffix}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post("/reports/generate", status_code=202, response_model=Envelope[dict[str, Any]],
             responses={202: {"description": "a job was queued; poll /api/v1/jobs/{id}"}})
def post_generate(request: Request, body: GenerateIn, city: str | None = Query(None, pattern=CITY_PATTERN),
                  principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Generate the city's report for ``year`` (or ``district``'s own) in ``formats`` as a background job; each
    document is stored with the ledger version and inputs hash. The office and analysts (a unit: its writers)."""
    job_id = generate.submit_report(request.app.state.jobs, get_database(request), principal, _city(request, city),
                                    body.year, body.formats, district=body.district, ledger_version=body.ledger_version)
    return respond({"job_id": job_id, "status": "queued", "poll": f"/api/v1/jobs/{job_id}"}, status_code=202)


@router.get("/reports/documents", response_model=Envelope[list[dict[str, Any]]])
def get_documents(request: Request, year: int | None = Query(None, ge=2000, le=2100),
                  city: str | None = Query(None, pattern=CITY_PATTERN),
                  principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The stored report documents the caller may read, newest first (no bytes: download each by id)."""
    found = generate.list_documents(get_database(request), principal, _city(request, city), year=year)
    return respond([d.to_dict() for d in found])


@router.get("/reports/documents/{doc_id}", responses={200: {"content": {m: {} for m in generate.MEDIA_TYPES.values()}}})
def get_document(request: Request, doc_id: int = Path(ge=1, le=2**62),
                 city: str | None = Query(None, pattern=CITY_PATTERN),
                 principal: Principal = Depends(get_principal)) -> Response:
    """One stored document's bytes with its media type and file name (Chinese, as RFC 5987 ``filename*``)."""
    found = generate.get_document(get_database(request), principal, _city(request, city), doc_id)
    return Response(found.content, media_type=found.media_type, headers={
        "Content-Disposition": content_disposition(found.filename), "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff", "X-Inputs-Hash": found.inputs_hash})


@router.get("/reports/{year}/narratives", response_model=Envelope[list[dict[str, Any]]])
def get_narratives(request: Request, year: int = YEAR, org: str | None = Query(None, pattern=ORG_PATTERN),
                   city: str | None = Query(None, pattern=CITY_PATTERN),
                   principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The narrative sections of the city's report (``org``: a unit's), each as edited or its pre-filled draft
    (``version`` 0)."""
    found = narratives.get_narratives(get_database(request), principal, _city(request, city), year, org=org)
    return respond([s.to_dict() for s in found])


@router.put("/reports/narratives", response_model=Envelope[dict[str, Any]],
            responses={409: {"description": "the section changed since the version you read"}})
def put_narrative(request: Request, body: NarrativeIn, city: str | None = Query(None, pattern=CITY_PATTERN),
                  principal: Principal = Depends(require_write)) -> EnvelopeResponse:
    """Replace one narrative section (audited ``report.narrative``)."""
    found = narratives.set_narrative(get_database(request), principal, _city(request, city), body.year,
                                     body.section, body.text, org=body.org, version=body.version)
    return respond(found.to_dict())
