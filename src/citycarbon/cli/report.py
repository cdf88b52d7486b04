"""``citycarbon report …``: the yearly reports (issue 16) — the city's 贯彻落实情况 report to 市委/市政府 as
DOCX, PDF and XLSX, and each district's and department's own report.

This module creates the command group; the commands live in ``cli/report_*.py`` modules, each adding its commands
to :data:`report_app` in its ``register``. Every command parses, calls one ``services.reports`` function and
writes or renders."""

from __future__ import annotations

import typer

report_app = typer.Typer(
    help="Yearly reports: the city's report (DOCX/PDF/XLSX) and the units' own reports.",
    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
