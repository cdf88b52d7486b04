"""Command groups whose commands live in several modules (``citycarbon pathway …``, ``citycarbon monitoring …``).

A module adds its commands with ``@pathway_app.command(...)`` inside its own ``register(app)``; this module
attaches the groups to the main app. Click builds the command tree lazily, so the order does not matter.
"""

from __future__ import annotations

import typer

pathway_app = typer.Typer(help="Pathways to 2060: scenarios, levers, peak year, probabilities, attribution.",
                          no_args_is_help=True)
monitoring_app = typer.Typer(help="Online monitoring of key energy-using units (重点用能单位能耗在线监测).",
                             no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pathway_app, name="pathway")
    app.add_typer(monitoring_app, name="monitoring")
