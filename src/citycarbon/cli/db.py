"""``citycarbon db upgrade|downgrade|current|seed``: the schema and the reference data of the store.

The database is ``CITYCARBON_DATABASE_URL`` or the SQLite file under ``CITYCARBON_HOME`` (``Settings.from_env``).
Writes are audited with the actor ``cli:<operating-system user>``.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError

db_app = typer.Typer(help="Database schema (Alembic migrations) and reference data. 数据库迁移与参考数据。",
                     no_args_is_help=True)


def cli_actor() -> str:
    """The audit actor of a command-line write: ``cli:<operating-system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli:unknown"


def open_database():
    """The configured database (``Settings.from_env()``)."""
    from citycarbon.settings import Settings
    from citycarbon.store.db import Database

    return Database(Settings.from_env())


def _state(database, *, with_ledger: bool = False) -> dict:
    from citycarbon.services.admin import database_state

    return database_state(database, with_ledger=with_ledger).to_dict()


def _rows(state: dict) -> list[dict]:
    return [{"field": k, "value": v} for k, v in state.items() if not isinstance(v, dict | list)]


@db_app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(help="target revision (default: head)")] = "head",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Migrate the schema up (creates the SQLite file under CITYCARBON_HOME on first use)."""
    from sqlalchemy.exc import SQLAlchemyError

    database = open_database()
    try:
        database.upgrade(revision)
        state = _state(database)
    except SQLAlchemyError as error:
        fail(error, code=1)
        return
    finally:
        database.dispose()
    emit(state, fmt, rows=_rows(state), title="数据库迁移 / database upgraded")


@db_app.command("downgrade")
def downgrade(
    revision: Annotated[str, typer.Argument(help="target revision, e.g. 0001_core or base (drops every table)")],
    yes: Annotated[bool, typer.Option("--yes", help="confirm: a downgrade drops tables and their data")] = False,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Migrate the schema down to REVISION (data in dropped tables is lost: take a backup first)."""
    if not yes:
        fail(ValueError(f"downgrading to {revision} drops tables and their data; back up first "
                        "(citycarbon backup --out FILE) and repeat with --yes"))
        return
    database = open_database()
    try:
        database.downgrade(revision)
        state = _state(database)
    finally:
        database.dispose()
    emit(state, fmt, rows=_rows(state), title="数据库降级 / database downgraded")


@db_app.command("current")
def current(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The revision the database is at, the newest shipped revision, and the ledger version."""
    from sqlalchemy.exc import SQLAlchemyError

    database = open_database()
    try:
        state = _state(database, with_ledger=True)
    except SQLAlchemyError as error:
        fail(error, code=1)
        return
    finally:
        database.dispose()
    emit(state, fmt, rows=_rows(state), title="数据库状态 / database revision")


@db_app.command("seed")
def seed(
    city: Annotated[str, typer.Option("--city", help="shipped city to load")] = "dalian",
    refresh: Annotated[bool, typer.Option("--refresh", help="re-apply the shipped files over stored values "
                                                            "(changed values supersede; history is kept)")] = False,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Migrate to head and load the plan, regions, factor tables and reference datasets (idempotent)."""
    from citycarbon.services import admin

    database = open_database()
    try:
        report = admin.seed(database, city, cli_actor(), refresh=refresh).to_dict()
    except InputError as error:
        fail(error)
        return
    finally:
        database.dispose()
    rows = [{"part": part, "written": str(value)} for part, value in report["written"].items()] or \
        [{"part": "(nothing)", "written": "already seeded"}]
    emit(report, fmt, rows=rows, title=f"参考数据载入 / seed {city}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
