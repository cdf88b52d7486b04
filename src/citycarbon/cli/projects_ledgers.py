"""``citycarbon projects ledger …``, ``projects allocate`` and ``projects release``: the replacement ledgers
(issue 15 item 3).

``ledger list|show|add|import|template``; ``allocate CODE --source S --amount X --unit tce``; ``allocations CODE``
(what a project holds against what it needs); ``release ID --reason …``. Every command calls
:mod:`citycarbon.services.projects.ledgers` as the operator (the office); refusals exit with 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.cli.projects import projects_app
from citycarbon.errors import InputError, Problem

ledger_app = typer.Typer(help="Replacement ledgers (产能置换 / 能耗替代): sources, balances, import, template.",
                         no_args_is_help=True)

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")


def _source_row(s: Any) -> dict[str, Any]:
    return {"code": s.code, "kind": s.kind, "product": s.product or "", "amount": s.amount, "allocated": s.allocated,
            "remaining": s.remaining, "unit": s.unit, "region": s.region_code or "", "document": s.document or "",
            "allocations": len([a for a in s.allocations if a.live])}


def _allocation_row(a: Any) -> dict[str, Any]:
    return {"id": a.id, "source": a.source, "project": a.project_code, "amount": a.amount, "unit": a.unit,
            "asked": f"{a.requested_amount} {a.requested_unit}", "by": a.created_by,
            "released": a.released_at or ""}


@ledger_app.command("list")
def ledger_list(kind: Annotated[str | None, typer.Option("--kind", help="capacity or energy")] = None,
                city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The sources with their balances (amount, allocated, remaining)."""
    from citycarbon.services.projects import ledgers

    found = run_service(lambda db, me: ledgers.list_sources(db, me, city, kind=kind))
    emit([s.to_dict() for s in found], fmt, rows=[_source_row(s) for s in found],
         title=f"替代台账 / replacement ledgers: {city}")


@ledger_app.command("show")
def ledger_show(code: Annotated[str, typer.Argument(help="the source's code")],
                city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """One source with its allocations."""
    from citycarbon.services.projects import ledgers

    found = run_service(lambda db, me: ledgers.get_source(db, me, city, code))
    emit(found.to_dict(), fmt, rows=[_allocation_row(a) for a in found.allocations],
         title=f"{found.code}: 余额 / remaining {found.remaining} {found.unit} of {found.amount}")


@ledger_app.command("add")
def ledger_add(code: Annotated[str, typer.Argument(help="the new source's code")],
               kind: Annotated[str, typer.Option("--kind", help="capacity or energy")],
               amount: Annotated[str, typer.Option("--amount", help="a number > 0 in --unit")],
               unit: Annotated[str, typer.Option("--unit", help="tce, 10^4 tce; t/a, 10^4 t/a")],
               document: Annotated[str, typer.Option("--document", help="文号 of the closure or saving")],
               product: Annotated[str | None, typer.Option("--product", help="capacity: the product")] = None,
               plant: Annotated[str | None, typer.Option("--plant")] = None,
               unit_name: Annotated[str | None, typer.Option("--unit-name", help="the production unit")] = None,
               region: Annotated[str | None, typer.Option("--region", help="GB/T 2260 district code")] = None,
               retired_on: Annotated[str | None, typer.Option("--retired-on", help="YYYY-MM-DD")] = None,
               origin: Annotated[str | None, typer.Option("--origin", help="closure, saving or other")] = None,
               notes: Annotated[str, typer.Option("--notes")] = "",
               city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Add retired capacity or energy room (audited)."""
    from citycarbon.services.projects import ledgers

    values = {"code": code, "kind": kind, "amount": amount, "unit": unit, "document": document,
              "product": product, "plant": plant, "unit_name": unit_name, "region_code": region,
              "retired_on": retired_on, "origin": origin, "notes": notes}
    found = run_service(lambda db, me: ledgers.add_source(db, me, city, values))
    emit(found.to_dict(), fmt, rows=[_source_row(found)], title="替代来源 / ledger source")


@ledger_app.command("import")
def ledger_import(path: Annotated[Path, typer.Argument(help="CSV or the ledger workbook (.xlsx)")],
                  apply: Annotated[bool, typer.Option("--apply", help="store it (without: preview)")] = False,
                  reason: Annotated[str, typer.Option("--reason", help="kept in the audit log")] = "",
                  city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Import sources: preview (default) or --apply; all-or-nothing, errors name file, sheet, row and column."""
    from citycarbon.services.projects import ledgers

    try:
        content = path.read_bytes()
    except OSError as error:
        fail(InputError(Problem(f"cannot read the file: {error.strerror}", message_zh="无法读取文件",
                                file=str(path))))
        return
    found = run_service(lambda db, me: ledgers.import_sources(db, me, city, content, path.name, apply=apply,
                                                              reason=reason))
    emit(found.to_dict(), fmt, rows=[{"code": c} for c in found.created],
         title=f"{'已导入 / imported' if found.applied else '预览 / preview (--apply to store)'}: {found.rows}")


@ledger_app.command("template")
def ledger_template(output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
                    filled: Annotated[bool, typer.Option("--filled", help="with the current sources")] = False,
                    city: Annotated[str, CITY_OPTION] = "dalian") -> None:
    """Write the ledger workbook (empty template, or --filled with the sources)."""
    from citycarbon.services.projects import ledgers

    download = run_service(lambda db, me: ledgers.sources_workbook(db, me, city, filled=filled))
    target = output or Path(download.filename)
    target.write_bytes(download.content)
    typer.echo(str(target))


def allocate(code: Annotated[str, typer.Argument(help="the project's code (XM-2026-0001)")],
             source: Annotated[str, typer.Option("--source", help="the ledger source's code")],
             amount: Annotated[str, typer.Option("--amount", help="a number > 0 in --unit")],
             unit: Annotated[str, typer.Option("--unit", help="of the source's dimension: tce, t/a …")] = "tce",
             note: Annotated[str, typer.Option("--note")] = "",
             city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Allocate part of a ledger source to a project (atomic; refused over the balance or for another product)."""
    from citycarbon.services.projects import ledgers

    found = run_service(lambda db, me: ledgers.allocate(db, me, city, code, source, amount, unit, note))
    emit(found.to_dict(), fmt, rows=[_allocation_row(found.allocation)],
         title=f"{found.source.code}: 余额 / remaining {found.source.remaining} {found.source.unit}")


def allocations(code: Annotated[str, typer.Argument(help="the project's code")],
                city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """What a project holds from the ledgers against what its rules require."""
    from citycarbon.services.projects import ledgers

    found = run_service(lambda db, me: ledgers.project_allocations(db, me, city, code))
    rows = [{"kind": n.kind, "product": n.product or "", "required": n.required_display, "allocated":
             str(n.allocated), "unit": n.unit, "covered": n.covered} for n in found.coverage.needs]
    emit(found.to_dict(), fmt, rows=rows,
         title=f"{found.project_code}: {'已落实 / covered' if found.coverage.covered else '未落实 / not covered'}")


def release(allocation_id: Annotated[int, typer.Argument(help="the allocation's id", min=1, max=2**62)],
            reason: Annotated[str, typer.Option("--reason", help="why (kept in the audit log)")],
            city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Give an allocation back: the source's balance grows again."""
    from citycarbon.services.projects import ledgers

    found = run_service(lambda db, me: ledgers.release(db, me, city, allocation_id, reason))
    emit(found.to_dict(), fmt, rows=[_allocation_row(found.allocation)],
         title=f"{found.source.code}: 余额 / remaining {found.source.remaining} {found.source.unit}")


def register(app: typer.Typer) -> None:
    projects_app.add_typer(ledger_app, name="ledger")
    projects_app.command("allocate")(allocate)
    projects_app.command("allocations")(allocations)
    projects_app.command("release")(release)
