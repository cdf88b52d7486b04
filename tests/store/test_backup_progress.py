"""Backups and restores report their progress (tables, then lake files: monotone, ending at the total), and the
commands draw it on stderr only, off with --quiet."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.store import backup
from tests.progress_recorder import Recorder
from tests.store.test_backup import _add_activity


def test_backup_and_restore_count_tables_and_lake_files(seeded_db, tmp_path):
    _add_activity(seeded_db)
    archive = tmp_path / "backup.zip"
    made = Recorder()
    manifest = backup.backup(seeded_db, archive, progress=made)
    tables = [t["name"] for t in manifest["tables"]]
    items = len(tables) + len(manifest["lake"])
    made.check_monotone_to(items)
    assert [label for _, _, label in made.calls[1:]] == tables + [f["path"] for f in manifest["lake"]]

    verified = Recorder()
    backup.verify_archive(archive, deep=True, progress=verified)  # the trial restore reports too
    verified.check_monotone_to(items)

    backup.wipe(seeded_db)
    lake = seeded_db.settings.lake_dir
    for file in sorted(lake.rglob("*"), reverse=True):
        file.unlink() if file.is_file() else file.rmdir()
    restored = Recorder()
    report = backup.restore(seeded_db, archive, progress=restored)
    restored.check_monotone_to(items)
    assert [label for _, _, label in restored.calls[1:]] == list(report.tables) + [f["path"] for f in
                                                                                   manifest["lake"]]


def test_backup_command_bar_on_stderr_only(settings, tmp_path, monkeypatch):
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    monkeypatch.setenv("CITYCARBON_PROGRESS", "always")
    monkeypatch.setenv("COLUMNS", "200")
    shown = runner.invoke(app, ["backup", "--out", str(tmp_path / "a.zip"), "--format", "json"])
    quiet = runner.invoke(app, ["backup", "--out", str(tmp_path / "b.zip"), "--format", "json", "--quiet"])
    assert shown.exit_code == 0 and quiet.exit_code == 0, shown.output + quiet.output
    total = len(json.loads(shown.stdout)["tables"])
    assert f"{total}/{total}" in shown.stderr and "备份 / backup" in shown.stderr
    assert quiet.stderr == ""
    assert json.loads(quiet.stdout)["tables"] == json.loads(shown.stdout)["tables"]
    restored = runner.invoke(app, ["restore", str(tmp_path / "a.zip"), "--wipe", "--format", "json"])
    assert restored.exit_code == 0, restored.output
    assert "恢复 / restore" in restored.stderr and "校验 / verify" in restored.stderr
    assert json.loads(restored.stdout)["tables"]
