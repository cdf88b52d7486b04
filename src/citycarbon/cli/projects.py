"""``citycarbon projects …``: the project gate (issue 15) — the project registry and its checks, the budget check
and pipeline, the replacement ledgers and the review workflow.

This module creates the command group; the commands live in ``cli/projects_*.py`` modules, each adding its
commands to :data:`projects_app` in its ``register``. Every command parses, calls one ``services.projects``
function and renders (``--format table|json|csv``)."""

from __future__ import annotations

import typer

projects_app = typer.Typer(
    help="The project gate: project registry, rule checks, budget check, replacement ledgers, review workflow.",
    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(projects_app, name="projects")
