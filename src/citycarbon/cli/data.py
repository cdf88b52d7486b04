"""``citycarbon template`` and ``citycarbon validate-data``: the import template and upload checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError


def register(app: typer.Typer) -> None:
    @app.command("template")
    def template(
        out: Annotated[Path, typer.Option("--out", "-o", help="where to write the .xlsx template")],
        tables: Annotated[list[str] | None, typer.Option(
            "--table", "-t", help="only this table (energy_balance, statistics); repeat for several; all by default",
        )] = None,
    ) -> None:
        """Write the Excel import template (说明 sheet, one sheet per table, drop-down validation)."""
        from citycarbon.services.templates import import_template

        try:
            template = import_template(tables or None)
        except InputError as exc:
            fail(exc)
        out.write_bytes(template.content)
        typer.echo(f"wrote {out}")

    @app.command("validate-data")
    def validate_data(
        files: Annotated[list[Path], typer.Argument(help="CSV or XLSX files (energy balance, statistics)")],
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Validate statistical tables as an import would; every problem names file, row and field."""
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
