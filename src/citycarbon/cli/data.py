"""``citycarbon template``, ``citycarbon validate-data`` and ``citycarbon data import``: the import template,
upload checks and the one import workflow from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.cli.progress import QUIET_OPTION, progress_bars
from citycarbon.errors import InputError, Problem, ServiceError

data_app = typer.Typer(help="Datasets: import a table through the import workflow. 数据集导入。", no_args_is_help=True)


@data_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV or Excel file (the long format, the template, or the NBS "
                                         "energy-balance layout)", exists=True, dir_okay=False, readable=True)],
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", help="the table (energy_balance, statistics, capacity, process_activity, forest, "
        "wetland, monthly, districts …; default: from the columns)")] = None,
    mode: Annotated[str, typer.Option(
        "--mode", help="keys: only the file's keys change (default) | years: replace the file's years | all")
    ] = "keys",
    status: Annotated[str, typer.Option(
        "--status", help="status of rows that name none: official | secondary | unverified | reported | estimate")
    ] = "official",
    approve: Annotated[bool, typer.Option(
        "--approve", help="approve at once (administrators): the rows enter the ledger")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
    quiet: bool = QUIET_OPTION,
) -> None:
    """Upload → validate → preview (→ approve with --approve): the same service as the web page and the API.

    Without --approve the batch waits for approval (``citycarbon imports approve ID``); its preview lists every
    value approving would close."""
    from citycarbon.cli.db import open_database
    from citycarbon.cli.imports import _operator, _row
    from citycarbon.services import imports

    if approve and not reason:
        fail(InputError(Problem("批准导入须说明理由 / --approve needs --reason (kept in the audit log)",
                                field="reason")))
    database = open_database()
    try:
        with progress_bars(quiet) as bars:
            done = imports.import_file(database, _operator(), filename=file.name, content=file.read_bytes(),
                                       kind=dataset, status=status, mode=mode, reason=reason, approve=approve,
                                       progress=bars.task(f"导入 / import {file.name}", "steps"))
    except (InputError, ServiceError) as error:
        fail(error)
    finally:
        database.dispose()
    batch = done.batch
    row = {**_row(batch), "mode": batch.mode, "closing": batch.preview.closed}
    if done.approval is not None:
        row.update(done.approval.ledger_dict())
    emit(done.to_dict(), fmt, rows=[row], title="导入 / import")
    if batch.status not in ("validated", "approved"):
        fail(InputError(batch.problem_list))


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")

    @app.command("template")
    def template(
        out: Annotated[Path | None, typer.Option("--out", "-o", help="where to write the .xlsx template "
                                                 "(default: its own name in the current folder)")] = None,
        tables: Annotated[list[str] | None, typer.Option(
            "--dataset", "--table", "-t",
            help="only this dataset (energy_balance, statistics, capacity, …); repeat for several; all by default",
        )] = None,
    ) -> None:
        """Write the Excel import template (说明 and 来源 sheets, one sheet per table, drop-down validation)."""
        from citycarbon.services.templates import import_template

        try:
            template = import_template(tables or None)
        except InputError as exc:
            fail(exc)
        target = out or Path(template.filename)
        target.write_bytes(template.content)
        typer.echo(f"wrote {target}")

    @app.command("validate-data")
    def validate_data(
        files: Annotated[list[Path], typer.Argument(help="CSV or XLSX files (any importable table)")],
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Validate tables as an import would; every problem names file, row and field."""
        from citycarbon.importers import read_table, read_workbook

        summary = []
        try:
            for path in files:
                if path.suffix.lower() in (".xlsx", ".xlsm"):
                    tables = read_workbook(path)
                else:
                    name, frame = read_table(path)
                    tables = {name: frame}
                for name, frame in tables.items():
                    years = sorted(int(y) for y in frame["year"].unique())
                    estimates = float((frame["status"] == "estimate").mean()) if "status" in frame.columns else 0.0
                    summary.append({"file": path.name, "table": name, "rows": len(frame),
                                    "years": f"{years[0]}–{years[-1]}" if years else "",
                                    "estimate_share": round(estimates, 4)})
        except InputError as exc:
            fail(exc)
        emit({"valid": True, "tables": summary}, fmt, rows=summary, title="数据校验通过 / valid")
