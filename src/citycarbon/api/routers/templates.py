"""The Excel import template (``data/tables.yaml``: one sheet per importable table, header notes, drop-downs
from the codelists); fill it in and upload it at ``POST /imports``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Response

from citycarbon.api.deps import get_principal
from citycarbon.auth.principal import Principal
from citycarbon.services.templates import XLSX_MEDIA_TYPE, import_template
from citycarbon.tables import import_tables

router = APIRouter(tags=["imports"])
PERMISSIONS = {("GET", "/import-template"): "read"}

#: the importable tables of the registry (``energy_balance``, ``statistics``, ``capacity``, …)
ImportTable = Literal[tuple(import_tables())]  # type: ignore[valid-type]


@router.get("/import-template", response_class=Response,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "the .xlsx template"}})
def get_import_template(dataset: list[ImportTable] | None = Query(  # type: ignore[valid-type]
                            None, description="only these datasets (repeatable); every importable table by default"),
                        table: list[ImportTable] | None = Query(  # type: ignore[valid-type]
                            None, description="the former name of 'dataset'"),
                        principal: Principal = Depends(get_principal)) -> Response:
    """The Excel import template (说明 and 来源 sheets, one sheet per dataset, units in the headers, a note on
    every column, drop-down lists of the codelists)."""
    chosen = [*(dataset or ()), *(table or ())]
    template = import_template(chosen or None)
    return Response(template.content, media_type=template.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{template.filename}"',
                             "Cache-Control": "no-store"})
