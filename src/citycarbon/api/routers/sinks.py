"""Carbon sinks of a year (forest stock change, wetland and blue carbon) from the ledger's tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from citycarbon.api.deps import get_principal
from citycarbon.api.envelope import Envelope, EnvelopeResponse, provenance_meta
from citycarbon.api.routers._common import cached
from citycarbon.sinks.summary import sink_summary

router = APIRouter(tags=["sinks"], dependencies=[Depends(get_principal)])
PERMISSIONS = {("GET", "/sinks"): "read"}


@router.get("/sinks", response_model=Envelope[dict[str, Any]])
def get_sinks(request: Request, year: int | None = Query(None, ge=1900, le=2100,
                                                         description="default: the latest year with forest data")
              ) -> EnvelopeResponse:
    """Forest and wetland/blue-carbon sinks (t CO2/yr, positive = removal) and forest projections."""

    def build(version: int) -> tuple[Any, dict]:
        dataset = request.app.state.results.dataset(version)
        chosen = year if year is not None else int(dataset.forest["year"].max())
        files = {k: str(v) for k, v in dataset.files.items() if k in ("forest", "wetland") and Path(v).is_file()}
        summary = sink_summary(dataset.forest, dataset.wetland, chosen, input_files=files)
        return summary, provenance_meta(summary.get("provenance"))

    return cached(request, ("sinks", year), build)
