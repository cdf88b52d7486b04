"""``citycarbon energy-projects …``: the energy-project registry (issue 15 item 6) — wind, solar, storage,
nuclear, hydrogen, biomass, coal units and boilers by stage, and the 8 GW wind + solar tracking.

Every command parses, calls one :mod:`citycarbon.services.projects.energy_projects` function and renders
(``--format table|json|csv``)."""

from __future__ import annotations

import typer

energy_projects_app = typer.Typer(
    help="The energy-project registry: wind, solar, storage and other supply projects by stage; the 8 GW card.",
    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(energy_projects_app, name="energy-projects")
