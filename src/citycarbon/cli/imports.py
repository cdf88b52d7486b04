"""``citycarbon imports upload|list|show|approve|discard``: the import workflow from the shell.

The same service functions as the web page and the API (:mod:`citycarbon.services.imports`), called as the
operator who holds the database (a city-office administrator; audited as ``cli:<operating-system user>``).
A file with problems is kept as a rejected batch and its problems (file, row, field) go to stderr (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from citycarbon.cli.db import open_database
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.cli.progress import QUIET_OPTION, progress_bars
from citycarbon.errors import InputError, ServiceError

imports_app = typer.Typer(help="Import any dataset: upload, review, approve. 数据导入与审批。",
                          no_args_is_help=True)


def _operator():
    """The CLI's caller: the deployment's administrator, scoped to ``$CITYCARBON_CITY_SCOPE`` when it is set (the
    import service then refuses a deployment of another city, like on the web and the API)."""
    from citycarbon.cli.city import cli_principal

    return cli_principal()


def _row(batch) -> dict:
    return {"id": batch.id, "kind": batch.kind, "filename": batch.filename, "status": batch.status,
            "rows": batch.row_count, "uploaded_by": batch.uploaded_by, "uploaded_at": batch.uploaded_at,
            "problems": len(batch.problems)}


def _run(call, quiet: bool = True, step: str | None = None):
    """``call(database)``; an input or service error exits 2 (after the spinner of ``step``, if any, is gone)."""
    database = open_database()
    try:
        with progress_bars(quiet) as bars:
            if step is None:
                return call(database)
            with bars.step(step):
                return call(database)
    except (InputError, ServiceError) as error:
        fail(error)
    finally:
        database.dispose()


@imports_app.command("upload")
def upload(
    file: Annotated[Path, typer.Argument(help="CSV or Excel table", exists=True, dir_okay=False, readable=True)],
    kind: Annotated[str | None, typer.Option(
        "--kind", "--dataset", help="energy_balance | statistics | capacity | process_activity | forest | wetland | "
        "monthly | districts … (default: from the columns)")] = None,
    status: Annotated[str, typer.Option(
        "--status", help="official | secondary | unverified | reported | estimate")] = "official",
    mode: Annotated[str, typer.Option(
        "--mode", help="keys (default): only the file's keys change | years: replace the file's years | all")
    ] = "keys",
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
    quiet: bool = QUIET_OPTION,
) -> None:
    """Validate a table and keep it as a batch awaiting approval (problems name file, row and field)."""
    from citycarbon.services import imports

    batch = _run(lambda db: imports.upload_batch(db, _operator(), filename=file.name, content=file.read_bytes(),
                                                 kind=kind, status=status, mode=mode, reason=reason),
                 quiet=quiet, step=f"校验导入 / validate {file.name}")
    emit(batch.to_dict(), fmt, rows=[_row(batch)], title="导入批次 / import batch")
    if batch.status != "validated":
        fail(InputError(batch.problem_list))


@imports_app.command("list")
def list_(
    status: Annotated[str | None, typer.Option("--status", help="validated | rejected | approved | discarded")
                      ] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Import batches, newest first."""
    from citycarbon.services import imports

    batches = _run(lambda db: imports.list_batches(db, _operator(), status=status))
    emit({"batches": [b.to_dict() for b in batches]}, fmt, rows=[_row(b) for b in batches],
         title="导入批次 / import batches")


@imports_app.command("show")
def show(batch_id: Annotated[int, typer.Argument(help="batch id")], fmt: OutputFormat = FORMAT_OPTION) -> None:
    """A batch with its problems and what approving it would change now."""
    from citycarbon.services import imports

    batch = _run(lambda db: imports.get_batch(db, _operator(), batch_id))
    preview = batch.preview_now or batch.preview
    rows = ([{"key": c.key, "now": f"{c.old_value} {c.old_unit}", "after": f"{c.new_value} {c.new_unit}"}
             for c in preview.changes]
            + [{"key": c.key, "now": f"{c.value} {c.unit}", "after": "closed / 关闭"} for c in preview.closing]
            ) if preview else [p.to_dict() for p in batch.problems]
    emit(batch.to_dict(), fmt, rows=rows or [_row(batch)], title=f"导入批次 / import batch {batch.id}")


@imports_app.command("approve")
def approve(
    batch_id: Annotated[int, typer.Argument(help="batch id")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
    quiet: bool = QUIET_OPTION,
) -> None:
    """Write a validated batch into the ledger (one transaction, audited)."""
    from citycarbon.services import imports

    approval = _run(lambda db: imports.approve_batch(db, _operator(), batch_id, reason=reason),
                    quiet=quiet, step=f"写入台账 / approve {batch_id}")
    ledger = approval.ledger_dict()
    emit({"batch_id": batch_id, "ledger": ledger}, fmt, rows=[{"batch_id": batch_id, **ledger}],
         title="已批准 / approved")


@imports_app.command("discard")
def discard(
    batch_id: Annotated[int, typer.Argument(help="batch id")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Discard a batch that was not approved (its file stays for the record)."""
    from citycarbon.services import imports

    batch = _run(lambda db: imports.discard_batch(db, _operator(), batch_id, reason=reason))
    emit(batch.to_dict(), fmt, rows=[_row(batch)], title="已放弃 / discarded")


def register(app: typer.Typer) -> None:
    app.add_typer(imports_app, name="imports")
