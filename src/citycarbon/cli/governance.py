"""``citycarbon governance …``: running the plan (issue 14) — organisations, the responsibility matrix, "1+N"
plans, progress rounds (调度), filings, supervision (督办) and the round summary.

This module creates the command group; the commands live in ``cli/gov_*.py`` modules, each adding its commands to
:data:`governance_app` in its ``register``. Every command parses, calls one ``services.governance`` function and
renders (``--format table|json|csv``)."""

from __future__ import annotations

import typer

governance_app = typer.Typer(
    help="Running the plan: organisations, responsibility matrix, 1+N plans, progress rounds, supervision.",
    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(governance_app, name="governance")
