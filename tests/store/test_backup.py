"""Backup → wipe → restore gives identical tables on both backends; a corrupt archive restores nothing."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from citycarbon.settings import Settings
from citycarbon.store import audit, backup, imports, jobs, ledger
from citycarbon.store.db import Database

CSV = b"year,region,variable,value,unit\n2021,210200,population,746.0,10^4 person\n"


def _add_activity(db: Database) -> None:
    with db.session() as session:
        batch = imports.create_batch(session, filename="pop.csv", content=CSV, actor="analyst")
        imports.approve(session, batch["id"], actor="admin", reason="2021 公报")
        job = jobs.create(session, "report", {"year": 2021}, actor="analyst")
        jobs.finish(session, job.id, {"pages": 3})
    lake = db.settings.lake_dir / "month=2024-01" / "enterprise=91210200X"
    lake.mkdir(parents=True)
    (lake / "part-0.parquet").write_bytes(b"PAR1 fake parquet bytes")


def _rewrite(source: Path, target: Path, edit) -> None:
    """Copy an archive, letting ``edit(name, data, manifest)`` change members (and the manifest)."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    members = {name: edit(name, data, manifest) for name, data in members.items()}
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", json.dumps(manifest))


def test_backup_wipe_restore_is_identical(seeded_db, tmp_path):
    _add_activity(seeded_db)
    before = backup.table_dump(seeded_db)
    archive = tmp_path / "backup.zip"
    manifest = backup.backup(seeded_db, archive)
    assert manifest["alembic_revision"] == seeded_db.head_revision()
    assert {t["name"] for t in manifest["tables"]} >= {"observations", "audit_log", "import_batches", "jobs"}
    assert [f["path"] for f in manifest["lake"]] == ["month=2024-01/enterprise=91210200X/part-0.parquet"]

    backup.wipe(seeded_db)
    lake = seeded_db.settings.lake_dir
    for file in sorted(lake.rglob("*"), reverse=True):
        file.unlink() if file.is_file() else file.rmdir()
    assert backup.database_is_empty(seeded_db)

    report = backup.restore(seeded_db, archive)
    assert report.lake_files == 1 and report.audit_checked == manifest["audit"]["checked"]
    assert backup.table_dump(seeded_db) == before
    assert (lake / "month=2024-01/enterprise=91210200X/part-0.parquet").read_bytes() == b"PAR1 fake parquet bytes"
    with seeded_db.session() as session:
        assert audit.verify(session).ok
        stats = ledger.current_frame(session, "statistics")
        assert stats[(stats["year"] == 2021) & (stats["variable"] == "population")]["value"].tolist() == [746.0]
        # ids keep counting after the restored rows (PostgreSQL sequences were reset)
        job = jobs.create(session, "report", actor="analyst")
        assert job.status == "queued"
        batch = imports.create_batch(session, filename="pop.csv", content=CSV, actor="analyst")
        assert batch["id"] == 10  # 8 seed batches + 1 import were restored


@pytest.fixture(scope="module")
def seeded_archive(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    """An archive of a seeded SQLite store (made once) and that store's table dump."""
    folder = tmp_path_factory.mktemp("archive")
    source = Database(Settings.for_home(folder / "home"))
    try:
        source.upgrade()
        from citycarbon.store.seed import seed_reference

        seed_reference(source)
        archive = folder / "seeded.zip"
        backup.backup(source, archive)
        return archive, backup.table_dump(source)
    finally:
        source.dispose()


@pytest.mark.parametrize("damage", ["table-bytes", "audit-edited", "missing-file"])
def test_corrupt_archive_restores_nothing(db, tmp_path, seeded_archive, damage):
    archive, _ = seeded_archive
    broken = tmp_path / "broken.zip"

    def edit(name: str, data: bytes, manifest: dict) -> bytes:
        if damage == "table-bytes" and name.endswith("_observations.jsonl"):
            return data.replace(b'"value":', b'"value":1', 1)  # hash now differs from the manifest
        if damage == "audit-edited" and name.endswith("_audit_log.jsonl"):
            lines = data.decode().splitlines()
            row = json.loads(lines[0])
            row["actor"] = "mallory"
            lines[0] = json.dumps(row)
            data = ("\n".join(lines) + "\n").encode()
            entry = next(t for t in manifest["tables"] if t["file"] == name)
            entry["sha256"] = hashlib.sha256(data).hexdigest()  # a careful forger fixes the file hash too
        if damage == "missing-file" and name.endswith("_regions.jsonl"):
            manifest["tables"][0]["file"] = "tables/99_gone.jsonl"
        return data

    _rewrite(archive, broken, edit)
    with pytest.raises(backup.BackupError) as caught:
        backup.restore(db, broken)
    assert caught.value.first.file or caught.value.first.field
    if damage == "audit-edited":  # this one got as far as the transaction, which was rolled back
        assert "audit chain" in str(caught.value)
    assert backup.database_is_empty(db)


def test_restore_refuses_a_non_empty_database_and_a_foreign_file(seeded_db, tmp_path):
    archive = tmp_path / "backup.zip"
    backup.backup(seeded_db, archive)
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(seeded_db, archive)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"hello")
    with pytest.raises(backup.BackupError, match="not a citycarbon backup"):
        backup.read_manifest(junk)


def test_same_format_from_both_backends(db, tmp_path, seeded_archive):
    """A SQLite archive restores on either backend with identical contents; re-archived from PostgreSQL it
    restores on SQLite identically again."""
    archive, expected = seeded_archive
    backup.restore(db, archive)
    assert backup.table_dump(db) == expected
    if db.dialect == "postgresql":
        again = tmp_path / "from-pg.zip"
        backup.backup(db, again)
        other = Database(Settings.for_home(tmp_path / "other"))
        try:
            backup.restore(other, again)
            assert backup.table_dump(other) == expected
        finally:
            other.dispose()
