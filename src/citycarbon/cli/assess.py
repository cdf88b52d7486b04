"""``citycarbon assess …``: assessment (考核, issue 16) — run a year's assessment, show the board and a unit's
breakdown, set qualitative items, objections, publish.

This module creates the command group; the commands live in ``cli/assess_*.py`` modules, each adding its commands
to :data:`assess_app` in its ``register``. Every command parses, calls one ``services.assessment`` function and
renders (``--format table|json|csv``)."""

from __future__ import annotations

import typer

assess_app = typer.Typer(
    help="Assessment (考核) of districts and departments: run, show, adjust, objections, publish.",
    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(assess_app, name="assess")
