"""``citycarbon targets …``: target values set in the platform (the values the plan leaves to the province).

``set`` records a value with the document that issued it (versioned, audited); ``allocate`` a district's
share of a city target; ``list`` shows every target with where its value comes from (plan, set, 待省政府下达);
``history`` every version of one value. Every command calls :mod:`citycarbon.services.targets`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit

targets_app = typer.Typer(help="Target values set by the office (目标值: 省政府下达、区县分解).", no_args_is_help=True)

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
VALUE_OPTION = typer.Option("--value", help="the value issued, in --unit")
UNIT_OPTION = typer.Option("--unit", help="its unit; must convert to the target's unit (e.g. percent, dimensionless)")
DOCUMENT_OPTION = typer.Option("--document", help="the issuing document's number (文号), e.g. 辽政发〔2022〕12号")
DATE_OPTION = typer.Option("--date", help="the document's date, YYYY-MM-DD")
NOTE_OPTION = typer.Option("--note", help="a note (one line)")


def _value_row(value) -> dict:
    return {"target": value.target_id, "region": value.region, "value": value.value, "unit": value.unit,
            "document": value.document, "date": value.document_date or "", "set_by": value.recorded_by,
            "recorded_at": value.recorded_at, "superseded_at": value.superseded_at or ""}


@targets_app.command("set")
def set_(
    target_id: Annotated[str, typer.Argument(help="the plan's target id (citycarbon targets list)")],
    value: Annotated[float, VALUE_OPTION],
    unit: Annotated[str, UNIT_OPTION],
    document: Annotated[str, DOCUMENT_OPTION],
    date: Annotated[str | None, DATE_OPTION] = None,
    note: Annotated[str | None, NOTE_OPTION] = None,
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Set the value of a target the plan leaves open (a new version; the old one stays in the history)."""
    from citycarbon.services import targets

    found = run_service(lambda db, me: targets.set_target_value(
        db, me, city, target_id, value=value, unit=unit, document=document, document_date=date, note=note))
    emit(found.to_dict(), fmt, rows=[_value_row(found)], title="目标值 / target value")


@targets_app.command("allocate")
def allocate(
    target_id: Annotated[str, typer.Argument(help="the plan's target id")],
    district: Annotated[str, typer.Option("--district", help="the district's GB/T 2260 code")],
    value: Annotated[float, VALUE_OPTION],
    unit: Annotated[str, UNIT_OPTION],
    document: Annotated[str, DOCUMENT_OPTION],
    date: Annotated[str | None, DATE_OPTION] = None,
    note: Annotated[str | None, NOTE_OPTION] = None,
    city: Annotated[str, CITY_OPTION] = "dalian",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Set a district's allocation of a city target (overrides districts.csv's allocation factor)."""
    from citycarbon.services import targets

    found = run_service(lambda db, me: targets.set_allocation(
        db, me, city, district, target_id, value=value, unit=unit, document=document, document_date=date,
        note=note))
    emit(found.to_dict(), fmt, rows=[_value_row(found)], title="目标分解 / allocation")


@targets_app.command("list")
def list_(
    city: Annotated[str, CITY_OPTION] = "dalian",
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", help="as known at this moment (ISO 8601 with a time zone)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Every target of the city's plan and where its value comes from (plan / set / pending 待省政府下达)."""
    from citycarbon.services import targets

    found = run_service(lambda db, me: targets.list_targets(db, me, city, as_of=as_of))
    rows = [{"target": t.id, "year": t.year, "value": t.value, "unit": t.unit,
             "origin": t.origin if t.origin != "pending" else f"pending ({targets.PENDING_ZH})",
             "document": t.set.document if t.set else "", "date": (t.set.document_date or "") if t.set else "",
             "set_by": t.set.recorded_by if t.set else "", "allocations": len(t.allocations)} for t in found]
    emit([t.to_dict() for t in found], fmt, rows=rows, title=f"目标 / targets: {city}")


@targets_app.command("history")
def history(
    target_id: Annotated[str, typer.Argument(help="the plan's target id")],
    city: Annotated[str, CITY_OPTION] = "dalian",
    district: Annotated[str | None, typer.Option("--district", help="a district's allocation instead")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Every version of a set value, oldest first (who set it, with which document, and when)."""
    from citycarbon.services import targets

    found = run_service(lambda db, me: targets.target_history(db, me, city, target_id, district))
    emit([v.to_dict() for v in found], fmt, rows=[_value_row(v) for v in found], title=f"历史 / history: {target_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
