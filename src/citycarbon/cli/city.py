"""``citycarbon city …``: create a city from its plan file, list the deployment's cities, scope users to one.

The CLI acts as the deployment's administrator (``cli:<os user>`` in the audit log) unless
``CITYCARBON_CITY_SCOPE`` names a city: then it acts for that city only (an office's terminal), and a command
for another city is refused. Every command calls :mod:`citycarbon.services.cities`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError, ServiceError

if TYPE_CHECKING:
    from citycarbon.auth.principal import Principal

_T = TypeVar("_T")

city_app = typer.Typer(help="Cities of this deployment (城市: 工作方案、核算配置、用户范围).", no_args_is_help=True)
SCOPE_ENV = "CITYCARBON_CITY_SCOPE"


def cli_principal() -> Principal:
    """The CLI's caller: the deployment's administrator, scoped to ``$CITYCARBON_CITY_SCOPE`` when it is set."""
    from dataclasses import replace

    from citycarbon.cli.users import cli_actor
    from citycarbon.services.users import cli_principal as principal_for

    principal = principal_for(cli_actor())
    scope = (os.environ.get(SCOPE_ENV) or "").strip()
    return replace(principal, city=scope) if scope else principal


def run_service(call: Callable[[Any, Principal], _T]) -> _T:
    """``call(database, principal)`` on the configured store (migrated first); refusals exit with 2."""
    from citycarbon.cli.users import _service

    try:
        with _service() as (database, _):
            return call(database, cli_principal())
    except InputError as error:
        fail(error)
    except ServiceError as error:
        fail(error)
    raise AssertionError("unreachable")


def _rows(cities: list) -> list[dict]:
    return [{"code": c.code, "region": c.region_code, "city": c.city, "city_en": c.city_en, "targets": c.targets,
             "has_data": c.has_data, "missing": " ".join(c.missing), "profile": c.accounting is not None}
            for c in cities]


@city_app.command("init")
def init(
    plan: Annotated[Path, typer.Option("--plan", help="the city's plan file (YAML; see docs/plan.md)")],
    accounting: Annotated[Path | None, typer.Option(
        "--accounting", help="accounting profile (YAML, the format of data/<city>/accounting.yaml)")] = None,
    code: Annotated[str | None, typer.Option("--code", help="the city's code (default: the plan file's name)")]
    = None,
    regions: Annotated[Path | None, typer.Option(
        "--regions", help="the city's districts and counties (CSV: code,name_zh,name_en,level[,notes]; GB/T 2260 "
        "codes under the city's region); the imports accept rows of these regions")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create a city from its plan file, with an EMPTY ledger, its accounting profile and its regions."""
    from citycarbon.services import cities

    info = run_service(lambda db, me: cities.init_city(db, me, plan, accounting_file=accounting, code=code,
                                                       regions_file=regions))
    emit(info.to_dict(), fmt, rows=_rows([info]), title="城市 / city")
    if not info.has_data:
        typer.echo(f"{info.code}: 尚无数据，请导入能源平衡表与统计数据 / no data yet: import its "
                   f"{' and '.join(info.missing)}", err=True)


@city_app.command("list")
def list_(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The cities of this deployment (within the CLI's city scope)."""
    from citycarbon.services import cities

    found = run_service(lambda db, me: cities.list_cities(db, me))
    emit([c.to_dict() for c in found], fmt, rows=_rows(found), title="城市 / cities")


@city_app.command("assign-user")
def assign_user(
    username: Annotated[str, typer.Argument(help="login name")],
    city: Annotated[str | None, typer.Argument(help="city code; leave out to give the user every city")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Scope a user to one city (or to every city of the deployment)."""
    from citycarbon.services import cities

    done = run_service(lambda db, me: cities.assign_user_city(db, me, username, city))
    emit(done, fmt, rows=[done], title="用户范围 / user scope")


def register(app: typer.Typer) -> None:
    app.add_typer(city_app, name="city")
