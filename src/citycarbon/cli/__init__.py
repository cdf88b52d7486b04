"""The ``citycarbon`` command line (Typer). Commands are verbs; every command takes ``--format``.

Each command group lives in its own module with a ``register(app)`` function; this module only
assembles them: every module of this package that defines ``register`` is registered (those in
``COMMAND_ORDER`` first, in that order, so ``--help`` lists the everyday commands first).
Commands hold no logic of their own: they call the same service functions the API uses.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="citycarbon",
    help="citycarbon: 碳达峰碳中和工作方案 as working software (platform, accounting, tracking, pathways, monitoring).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: command modules listed first in --help; any other module with register(app) follows alphabetically
COMMAND_ORDER: tuple[str, ...] = (
    "serve",
    "demo",
    "plan",
    "factors",
    "account",
    "data",
    "status",
    "sinks",
    "decompose",
    "groups",  # pathway …, monitoring …
    "users",
    "db",
    "backup",
    "audit",
)

#: modules of this package that are helpers, not command groups
_NOT_COMMANDS = frozenset({"output", "progress"})


def command_modules() -> list[str]:
    """Names of the command modules, in registration order."""
    found = {info.name for info in pkgutil.iter_modules(__path__) if info.name not in _NOT_COMMANDS}
    ordered = [name for name in COMMAND_ORDER if name in found]
    return ordered + sorted(found - set(ordered))


def _register_all() -> None:
    for name in command_modules():
        module = importlib.import_module(f"citycarbon.cli.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    app()
