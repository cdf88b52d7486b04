"""``citycarbon plan``: show a city's plan, validate a plan file, print or rewrite the plan JSON Schema.

JSON of ``plan show``: ``{"plan": {meta fields}, "targets": [target dicts], "tasks": [task dicts],
"rules": [rule dicts]}``. JSON of ``plan validate``: ``{"file", "valid": true, "city", "region_code",
"targets", "parameters", "task_groups", "tasks", "rules", "implementation"}`` (counts).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError
from citycarbon.plan import Plan, Target, load_plan, plan_schema_text, validate_plan_file, write_plan_schema

plan_app = typer.Typer(help="The city's work plan (工作方案) as data: show, validate, schema.",
                       no_args_is_help=True)

PLAN_OPTION = typer.Option(None, "--plan", "-p",
                           help="plan file or shipped plan name (default: the shipped Dalian plan)")

TARGET_COLUMNS = ("id", "indicator", "year", "comparison", "value", "unit", "title_zh")


def plan_document(plan: Plan) -> dict:
    """The JSON document of ``plan show``."""
    return {
        "plan": plan.meta.model_dump(mode="json"),
        "targets": [t.model_dump(mode="json") for t in plan.targets],
        "tasks": [t.model_dump(mode="json") for t in plan.tasks],
        "rules": [r.model_dump(mode="json") for r in plan.rules],
    }


def target_row(target: Target) -> dict:
    """One row of the targets table; whole-number values print as integers (2030, 8000)."""
    row = {column: target.model_dump(mode="json")[column] for column in TARGET_COLUMNS}
    if isinstance(row["value"], float) and row["value"].is_integer():
        row["value"] = int(row["value"])
    return row


def plan_summary(plan: Plan, file: str) -> dict:
    """The JSON document of ``plan validate``: counts of what the file holds."""
    return {
        "file": file,
        "valid": True,
        "city": plan.meta.city,
        "region_code": plan.meta.region_code,
        "targets": len(plan.targets),
        "parameters": sum(1 for t in plan.targets if not t.is_set),
        "task_groups": len(plan.task_groups),
        "tasks": len(plan.tasks),
        "rules": len(plan.rules),
        "implementation": len(plan.implementation),
    }


@plan_app.command("show")
def show(plan: str | None = PLAN_OPTION, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Show the plan's targets (table/csv) or the whole plan (json)."""
    try:
        loaded = load_plan(plan)
    except InputError as error:
        fail(error)
        return
    # object dtype keeps 8000 and 2030 as integers and unset values empty in csv output
    rows = pd.DataFrame([target_row(target) for target in loaded.targets], columns=list(TARGET_COLUMNS),
                        dtype=object)
    emit(plan_document(loaded), fmt, rows=rows,
         title=f"{loaded.meta.city} {loaded.meta.title_zh}: targets")


@plan_app.command("validate")
def validate(file: Path = typer.Argument(..., help="plan YAML file to check"),
             fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Validate a plan file; exit 2 with file, line and field of each problem on stderr."""
    try:
        plan = validate_plan_file(file)
    except InputError as error:
        fail(error)
        return
    summary = plan_summary(plan, str(file))
    rows = [{"item": key, "value": str(summary[key])} for key in summary if key != "valid"]
    emit(summary, fmt, rows=rows, title="valid plan")


@plan_app.command("schema")
def schema(write: bool = typer.Option(False, "--write",
                                      help="rewrite the shipped data/plans/plan.schema.json")) -> None:
    """Print the plan file's JSON Schema (generated from the models), or rewrite the shipped copy."""
    if write:
        path = write_plan_schema()
        typer.echo(f"wrote {path}")
        return
    typer.echo(plan_schema_text(), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
