"""The XLSX annex of a report: every table of the report on its own sheet (Chinese sheet names, units in the
headers, numbers kept as numbers with a number format), plus a provenance sheet.

The content model is :class:`Sheet`; the renderer (openpyxl) is :func:`render_xlsx` (issue 16).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Sheet"]


@dataclass(frozen=True)
class Sheet:
    """One table of the annex.

    ``name``: the sheet's Chinese name (≤ 31 characters, no ``[]:*?/\\``); ``title``: the table's title (first
    row); ``header``: column headers with their units (``能源消费量（万吨标准煤）``); ``rows``: values (numbers stay
    numbers, None is an empty cell); ``formats``: an Excel number format per column (``"0.00"``, ``"0.0%"``,
    ``"#,##0"``; None: general); ``notes``: lines under the table (sources, statuses)."""

    name: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    formats: list[str | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
