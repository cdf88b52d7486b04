"""``citycarbon backup --out FILE`` and ``citycarbon restore FILE [--wipe]``: portable archives of the store.

The archive (zip: manifest, one JSON-lines file per table with SHA-256, the meter lake) has the same format from
SQLite and PostgreSQL (docs/storage.md). ``restore`` checks the whole archive before it changes anything and
refuses a database that holds data unless ``--wipe`` (alias ``--yes``) is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from citycarbon.cli.db import cli_actor, open_database
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.cli.progress import QUIET_OPTION, progress_bars
from citycarbon.errors import InputError


def register(app: typer.Typer) -> None:
    @app.command("backup")
    def backup_command(
        out: Annotated[Path, typer.Option("--out", "-o", help="archive to write (.zip)")],
        fmt: OutputFormat = FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
    ) -> None:
        """Write a backup archive of the database and the meter lake. 备份数据库与计量数据湖。"""
        from citycarbon.services import admin

        database = open_database()
        try:
            with progress_bars(quiet) as bars:
                written = admin.make_backup(database, out, progress=bars.task("备份 / backup", "items"))
        except InputError as error:
            fail(error)
            return
        finally:
            database.dispose()
        manifest = written.manifest
        summary = {"file": str(out), "size": written.size, **manifest}
        rows = [{"table": t["name"], "rows": t["rows"], "sha256": t["sha256"][:16]} for t in manifest["tables"]]
        rows.append({"table": "(lake files)", "rows": len(manifest["lake"]), "sha256": ""})
        emit(summary, fmt, rows=rows, title=f"备份 / backup → {out}")

    @app.command("restore")
    def restore_command(
        file: Annotated[Path, typer.Argument(help="archive written by 'citycarbon backup'")],
        wipe: Annotated[bool, typer.Option("--wipe", "--yes", help="replace a database (and lake) that "
                                                                   "already holds data")] = False,
        fmt: OutputFormat = FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
    ) -> None:
        """Restore an archive (all or nothing). 从备份恢复(全部或不恢复)。"""
        from citycarbon.services import admin

        database = open_database()
        try:
            # nothing is changed before the archive is known to restore (a trial restore into scratch SQLite)
            with progress_bars(quiet) as bars:  # --wipe: the trial restore's bar, then the restore's
                restored = admin.restore_backup(database, file, wipe=wipe, actor=cli_actor(),
                                                verify_progress=bars.task("校验 / verify", "items"),
                                                restore_progress=bars.task("恢复 / restore", "items"))
        except InputError as error:
            fail(error)
            return
        finally:
            database.dispose()
        report, revision = restored.report, restored.revision
        result = {"file": str(file), **report.to_dict()}
        rows = [{"table": name, "rows": count} for name, count in report.tables.items()]
        rows.append({"table": "(lake files)", "rows": report.lake_files})
        emit(result, fmt, rows=rows, title=f"恢复 / restored {file.name} (revision {revision})")
