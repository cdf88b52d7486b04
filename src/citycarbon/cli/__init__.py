"""The ``citycarbon`` command line (Typer). Commands are verbs; every command takes ``--format``.

Each command group lives in its own module with a ``register(app)`` function; this module only
assembles them. Commands hold no logic of their own: they call the same service functions the API uses.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="citycarbon",
    help="citycarbon: 碳达峰碳中和工作方案 as working software (plan, accounting, tracking, sinks, LMDI).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: command modules under citycarbon.cli, each exposing register(app)
COMMAND_MODULES: tuple[str, ...] = (
    "plan",
    "factors",
    "account",
    "data",
    "demo",
    "decompose",
    "sinks",
    "status",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"citycarbon.cli.{name}")
        module.register(app)


_register_all()


def main() -> None:
    app()
