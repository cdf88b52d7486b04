"""The office's board (``/governance``) and a round's 调度 summary page (issue 14 items 6 and 9).

``/governance``                         the board: a tasks × units heat map (ECharts, drawn by
                                        ``static/js/gov_board.js`` from a JSON block; a table for readers
                                        without JavaScript), the open rounds' progress, the overdue list, the
                                        yearly reports, and links to the other governance pages. A department or
                                        district user sees its own unit and a link to "my measures"; a viewer the
                                        city aggregate only.
``/governance/rounds/{code}/summary``   the round's summary (measures by status, units by on-time rate,
                                        lagging measures and reasons, indicators against milestones, overdue),
                                        with the XLSX and DOCX downloads for the office and analysts (API
                                        ``/api/v1/governance/rounds/{code}/summary?format=…``).

This module's name is the nav's feature key ("governance"). Scope and rules: ``services/governance/summary``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from citycarbon.errors import Forbidden, NotFound
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import translations

router = APIRouter(include_in_schema=False)

#: heat-map colours by level (best first, as governance.summary.CELL_LEVELS)
COLOURS = {"completed": "#1e8449", "in_progress": "#7dcea0", "pending": "#d5d8dc", "not_started": "#f4d03f",
           "lagging": "#e67e22", "overdue": "#c0392b"}


def _labels(locale: str) -> dict[str, str]:
    t = translations(locale)
    return {
        "completed": str(t.pgettext("summary", "Completed")), "in_progress": str(t.pgettext("summary", "In progress")),
        "not_started": str(t.pgettext("summary", "Not started")), "lagging": str(t.pgettext("summary", "Lagging")),
        "not_filed": str(t.pgettext("summary", "Not filed")), "pending": str(t.pgettext("summary", "Not yet due")),
        "overdue": str(t.pgettext("summary", "Overdue")),
    }


def _task(locale: str, task: int) -> str:
    return str(translations(locale).pgettext("summary", "Task %(n)s")) % {"n": task}


def _names(board_names: dict[str, Any], locale: str) -> dict[str, str]:
    zh = locale.startswith("zh")
    return {code: (label.name_zh if zh or not label.name_en else label.name_en) for code, label in board_names.items()}


def _refused(request: Request, session: Any, error: Exception) -> Response:
    kind, status = ("forbidden", 403) if isinstance(error, Forbidden) else ("not_found", 404)
    return render(request, "error.html", {"error_kind": kind}, session=session, status_code=status)


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


@router.get("/governance", response_class=HTMLResponse)
def board_page(request: Request, year: int | None = Query(None, ge=2000, le=2100),
               session: Any = Depends(current_session)) -> Response:
    principal = getattr(session, "principal", None)
    if principal is None:
        return login_redirect(request)
    from citycarbon.governance.summary import CELL_LEVELS
    from citycarbon.services.governance import summary

    try:
        board = summary.board(web_state(request).db(), principal, _city(request))
    except (Forbidden, NotFound) as error:
        return _refused(request, session, error)
    locale = locale_of(request)
    labels, names = _labels(locale), _names(board.org_names, locale)
    rows = [o.code for o in board.orgs]
    levels = {(c.task, c.org): c.level for c in board.cells}
    heatmap = {
        "tasks": [_task(locale, t) for t in board.tasks], "units": [names[o] for o in rows],
        "levels": [labels[level] for level in CELL_LEVELS], "colours": [COLOURS[level] for level in CELL_LEVELS],
        "data": [[board.tasks.index(c.task), rows.index(c.org), CELL_LEVELS.index(c.level)]
                 for c in board.cells if c.task in board.tasks and c.org in rows],
    }
    report_year = year or board.today.year
    return render(request, "governance/board.html", {
        "board": board, "labels": labels, "names": names, "levels": levels, "level_order": CELL_LEVELS,
        "colours": COLOURS, "heatmap": heatmap, "task_name": lambda t: _task(locale, t),
        "report_year": report_year,
        "report_orgs": (board.own if board.scope == "units" else
                        [o.code for o in board.org_names.values() if o.kind not in ("leading_group", "office")]
                        if board.scope == "city" else []),
        "is_office": principal.can_manage_governance(_city(request)),
        "detail": principal.can_read_governance_detail(_city(request)),
    }, session=session)


@router.get("/governance/rounds/{code}/summary", response_class=HTMLResponse)
def summary_page(request: Request, code: str, session: Any = Depends(current_session)) -> Response:
    principal = getattr(session, "principal", None)
    if principal is None:
        return login_redirect(request)
    from citycarbon.services.governance import summary

    try:
        view = summary.round_summary(web_state(request).db(), principal, _city(request), code)
    except (Forbidden, NotFound) as error:
        return _refused(request, session, error)
    locale = locale_of(request)
    return render(request, "governance/round_summary.html", {
        "view": view, "s": view.summary, "labels": _labels(locale), "names": _names(view.org_names, locale),
        "task_name": lambda t: _task(locale, t),
        "detail": principal.can_read_governance_detail(_city(request)),
    }, session=session)
