"""``citycarbon governance plans …``: the "1+N" sector and district implementation plans (issue 14 item 3).

``list`` the registered sub-plans; ``show CODE`` one with its targets and carried measures; ``register FILE``
(or replace) one from its YAML (the office); ``withdraw CODE``; ``check`` the consistency report with its
numbers and units. Every command calls :mod:`citycarbon.services.governance.plans`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.city import run_service
from citycarbon.cli.governance import governance_app
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit

plans_app = typer.Typer(help='"1+N" implementation plans: sector and district plans and their consistency check.',
                        no_args_is_help=True)

CITY_OPTION = typer.Option("--city", help="city code (citycarbon city list)")
REASON_OPTION = typer.Option("--reason", help="why (kept in the audit trail)")


def _plan_row(plan: Any) -> dict[str, Any]:
    return {"code": plan.code, "version": plan.version, "parent": plan.parent, "kind": plan.kind,
            "org": plan.org or "", "title": plan.title_zh, "targets": len(plan.targets),
            "carries": len(plan.carries), "registered_by": plan.registered_by, "valid_from": plan.valid_from,
            "valid_to": plan.valid_to or ""}


@plans_app.command("list")
def list_(city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The registered sector and district plans (current versions), by code."""
    from citycarbon.services.governance import plans

    found = run_service(lambda db, me: plans.list_plans(db, me, city))
    emit([p.to_dict() for p in found], fmt, rows=[_plan_row(p) for p in found], title=f"实施方案 / plans: {city}")


@plans_app.command("show")
def show(code: Annotated[str, typer.Argument(help="the sub-plan's code")],
         city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """One sub-plan: its targets (table/CSV) or everything with its YAML (JSON)."""
    from citycarbon.services.governance import plans

    found = run_service(lambda db, me: plans.get_plan(db, me, city, code))
    rows = [{"target": t["id"], "indicator": t["indicator"], "year": t["year"], "value": t["value"],
             "unit": t["unit"], "comparison": t["comparison"], "title": t["title_zh"]} for t in found.targets]
    rows += [{"target": f"carries {c['measure']}", "indicator": "", "year": "", "value": "",
              "unit": "", "comparison": "", "title": c["deadline"] or ""} for c in found.carries]
    emit(found.to_dict(), fmt, rows=rows, title=f"{found.title_zh} ({found.code} v{found.version})")


@plans_app.command("register")
def register_(file: Annotated[Path, typer.Argument(help="the sub-plan's YAML file", exists=True, dir_okay=False)],
              city: Annotated[str, CITY_OPTION] = "dalian", reason: Annotated[str, REASON_OPTION] = "",
              fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Register (or replace) a sub-plan from its YAML file; problems name the line and field."""
    from citycarbon.services.governance import plans

    content = file.read_bytes()
    found = run_service(lambda db, me: plans.register_plan(db, me, city, content, filename=str(file),
                                                           reason=reason))
    emit(found.to_dict(), fmt, rows=[_plan_row(found)], title="已登记 / registered")


@plans_app.command("withdraw")
def withdraw(code: Annotated[str, typer.Argument(help="the sub-plan's code")],
             city: Annotated[str, CITY_OPTION] = "dalian", reason: Annotated[str, REASON_OPTION] = "",
             fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Withdraw a sub-plan (its history stays)."""
    from citycarbon.services.governance import plans

    found = run_service(lambda db, me: plans.withdraw_plan(db, me, city, code, reason=reason))
    emit(found.to_dict(), fmt, rows=[_plan_row(found)], title="已撤回 / withdrawn")


@plans_app.command("check")
def check(city: Annotated[str, CITY_OPTION] = "dalian", fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The consistency report: allocations that do not add up (with numbers and units), later years and
    deadlines, measures no plan carries, missing parents and organisations."""
    from citycarbon.services.governance import plans

    report = run_service(lambda db, me: plans.check_plans(db, me, city))
    rows = [{"severity": f.severity.value, "code": f.code, "plans": " ".join(f.plans), "year": f.year or "",
             "target": "" if f.target is None else f.target, "total": "" if f.total is None else f.total,
             "gap": "" if f.gap is None else f.gap, "unit": f.unit or "", "message": f.message_zh}
            for f in report.findings]
    counts = report.counts
    emit(report.to_dict(), fmt, rows=rows,
         title=f"一致性检查 / consistency: {city} — {report.plans} plans, {counts['error']} errors, "
               f"{counts['warning']} warnings, {counts['info']} notes")


def register(app: typer.Typer) -> None:
    governance_app.add_typer(plans_app, name="plans")
