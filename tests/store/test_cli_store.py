"""The store's commands end to end: db upgrade/current/seed/downgrade, backup, restore (--wipe), audit verify/list."""

from __future__ import annotations

import json

from sqlalchemy import text
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.settings import Settings
from citycarbon.store.db import Database


def _run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _json(*args: str, code: int = 0) -> dict:
    return json.loads(_run(*args, "--format", "json", code=code))


def test_db_backup_restore_audit_commands(settings, tmp_path):
    assert _json("db", "current")["current"] is None
    assert _json("db", "upgrade")["up_to_date"] is True
    seeded = _json("db", "seed")
    # 1 180 rows (issue 13: power plants' own use of electricity, one row a year)
    assert seeded["changed"] and seeded["written"]["balance"]["inserted"] == 1180
    assert _json("db", "seed")["changed"] is False
    assert _json("db", "current")["ledger_version"] == 8

    archive = tmp_path / "b.zip"
    made = _json("backup", "--out", str(archive))
    assert made["file"] == str(archive) and archive.stat().st_size == made["size"]
    assert "--wipe" in _run("restore", str(archive), code=2)
    restored = _json("restore", str(archive), "--wipe")
    assert restored["tables"]["observations"] == 2040  # 10 more balance rows (issue 13: power plants' own use)

    listing = _json("audit", "list", "--action", "backup.restore")
    assert listing["total"] == 1 and listing["entries"][0]["actor"].startswith("cli:")
    assert _json("audit", "list", "--entity", "ledger", "--limit", "3")["total"] == 8
    assert _json("audit", "verify")["ok"] is True
    assert "2026-" not in _run("audit", "list", "--until", "2000-01-01", "--format", "csv")
    assert "not an ISO date" in _run("audit", "list", "--since", "yesterday", code=2)

    database = Database(Settings.from_env())
    try:
        with database.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3"))
    finally:
        database.dispose()
    broken = _json("audit", "verify", code=1)
    assert (broken["ok"], broken["first_bad_seq"]) == (False, 3)
    against = _json("audit", "verify", "--against", str(archive), code=1)
    assert against["anchor"]["seq"] == made["audit"]["checked"]

    assert "--yes" in _run("db", "downgrade", "base", code=2)
    assert _json("db", "downgrade", "base", "--yes")["current"] is None


def test_restore_of_a_damaged_archive_changes_nothing(settings, tmp_path):
    _run("db", "seed")
    archive = tmp_path / "b.zip"
    _run("backup", "--out", str(archive))
    data = bytearray(archive.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8] = b"XXXXXXXX"
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    before = _json("db", "current")
    _run("restore", str(damaged), "--wipe", code=2)
    assert _json("db", "current") == before  # not wiped: the archive was checked first


def test_restore_wipe_keeps_the_database_when_the_archive_would_fail(settings, tmp_path):
    """A forged archive whose file hashes are right but whose audit chain is not: --wipe refuses before wiping."""
    import hashlib
    import zipfile

    _run("db", "seed")
    archive = tmp_path / "b.zip"
    _run("backup", "--out", str(archive))
    with zipfile.ZipFile(archive) as source:
        members = {name: source.read(name) for name in source.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    entry = next(t for t in manifest["tables"] if t["name"] == "audit_log")
    lines = members[entry["file"]].decode().splitlines()
    row = json.loads(lines[0])
    row["reason"] = "forged"
    lines[0] = json.dumps(row)
    members[entry["file"]] = ("\n".join(lines) + "\n").encode()
    entry["sha256"] = hashlib.sha256(members[entry["file"]]).hexdigest()
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
        target.writestr("manifest.json", json.dumps(manifest))
    before = _json("db", "current")
    assert "audit chain" in _run("restore", str(forged), "--wipe", code=2)
    assert _json("db", "current") == before
    assert _json("audit", "verify")["ok"] is True
