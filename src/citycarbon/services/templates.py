"""The Excel import template as a download: one service for the CLI (``citycarbon template``) and the API
(``GET /api/v1/import-template``). The workbook is built from the table registry (``data/tables.yaml``) by
:func:`citycarbon.importers.template.build_template`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from citycarbon.importers.template import build_template
from citycarbon.tables import import_tables, table

__all__ = ["XLSX_MEDIA_TYPE", "ImportTemplate", "import_template"]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ImportTemplate:
    """An import template ready to save or send: the tables it holds (import names), a file name, the bytes."""

    tables: tuple[str, ...]
    filename: str
    content: bytes
    media_type: str = XLSX_MEDIA_TYPE


def import_template(tables: Sequence[str] | None = None) -> ImportTemplate:
    """The import template of ``tables`` (import or registry names; every importable table by default).

    An unknown or non-importable table raises :class:`~citycarbon.errors.InputError` with the nearest name.
    """
    workbook = build_template(tables)
    names = tuple(import_tables()) if not tables else tuple(dict.fromkeys(
        str(table(name).import_name) for name in tables))
    buffer = io.BytesIO()
    workbook.save(buffer)
    stem = "citycarbon-import-template" + ("" if not tables else "-" + "-".join(names))
    return ImportTemplate(names, f"{stem}.xlsx", buffer.getvalue())
