"""Import batches: upload validates and previews, approve writes atomically, discard keeps the record."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from citycarbon.errors import InputError
from citycarbon.store import audit, imports, ledger
from citycarbon.store.models import Observation

GOOD = (b"year,region,variable,value,unit,price_base_year\n"
        b"2020,210200,gdp,7100.5,10^8 CNY,\n"
        b"2020,210200,population,745.1,10^4 person,\n")
BAD = (b"year,region,variable,value,unit\n"
       b"2020,210200,gpd,7100.5,10^8 CNY\n"
       b"2020,210200,population,-1,10^4 person\n")


def _current(session) -> int:
    return session.execute(select(func.count()).select_from(Observation)
                           .where(Observation.superseded_at.is_(None))).scalar_one()


def test_upload_preview_approve(seeded_db):
    with seeded_db.session() as session:
        batch = imports.create_batch(session, filename="统计数据2020.csv", content=GOOD, actor="analyst",
                                     mode="years")
    assert batch["status"] == "validated" and batch["kind"] == "statistics" and batch["problems"] == []
    preview = batch["preview"]
    assert (preview["rows"], preview["changed"], preview["new"], preview["years"]) == (2, 2, 0, [2020])
    # years scope: the other 2020 statistics the upload does not list would be closed
    assert preview["closed"] == 5 and len(preview["closing"]) == 5
    gdp = next(c for c in preview["changes"] if '"gdp"' in c["key"])
    assert gdp["new_value"] == 7100.5 and gdp["new_status"] == "official"
    with seeded_db.session() as session:
        version = ledger.version(session)
        result = imports.approve(session, batch["id"], actor="admin", reason="2020 统计公报")
    assert (result["superseded"], result["closed"]) == (2, 5)
    with seeded_db.session() as session:
        assert ledger.version(session) == version + 1
        stats = ledger.current_frame(session, "statistics")
        row = stats[(stats["year"] == 2020) & (stats["variable"] == "gdp")]
        assert row["value"].tolist() == [7100.5]
        assert row["source"].tolist() == [f"import batch {batch['id']}: 统计数据2020.csv"]
        stored = imports.get(session, batch["id"])
        assert stored["status"] == "approved" and stored["approved_by"] == "admin"
        actions = [r["action"] for r in audit.query(session, entity="import_batch", entity_id=str(batch["id"]))]
        assert actions == ["import.approve", "import.upload"]
        assert audit.verify(session).ok
        with pytest.raises(InputError, match="is approved"):
            imports.approve(session, batch["id"], actor="admin")


def test_rejected_upload_names_row_and_field(seeded_db):
    with seeded_db.session() as session:
        batch = imports.create_batch(session, filename="bad.csv", content=BAD, actor="analyst")
    assert batch["status"] == "rejected"
    problems = {(p["row"], p["field"]) for p in batch["problems"]}
    assert (2, "variable") in problems and (3, "value") in problems  # rows as the spreadsheet shows them
    assert any(p["suggestion"] == "gdp" for p in batch["problems"])
    with seeded_db.session() as session:
        with pytest.raises(InputError, match="only a batch that is validated"):
            imports.approve(session, batch["id"], actor="admin")
        discarded = imports.discard(session, batch["id"], actor="analyst", reason="wrong file")
        assert discarded["status"] == "discarded"
        assert [b["id"] for b in imports.list(session, status="discarded")] == [batch["id"]]


def test_approve_is_atomic(seeded_db, monkeypatch):
    with seeded_db.session() as session:
        batch = imports.create_batch(session, filename="stats.csv", content=GOOD, actor="analyst")
        before = (ledger.version(session), _current(session), audit.count(session))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "_mark_approved", broken)  # fails after the ledger rows were written
    with pytest.raises(RuntimeError, match="disk full"), seeded_db.session() as session:
        imports.approve(session, batch["id"], actor="admin")
    with seeded_db.session() as session:
        assert (ledger.version(session), _current(session), audit.count(session)) == before
        assert imports.get(session, batch["id"])["status"] == "validated"
        assert audit.verify(session).ok


def test_unknown_kind_and_bad_workbook(sqlite_db):
    with sqlite_db.session() as session:
        with pytest.raises(InputError, match="unknown import kind"):
            imports.create_batch(session, filename="x.csv", content=GOOD, actor="a", kind="gdp")
        batch = imports.create_batch(session, filename="x.xlsx", content=b"not a workbook", actor="a")
        assert batch["status"] == "rejected"
        assert "Excel" in batch["problems"][0]["message"]


def test_district_uploads_only_its_own_regions(seeded_db):
    mixed = (b"year,region,variable,value,unit\n"
             b"2020,210202,population,60.1,10^4 person\n"
             b"2020,210203,population,30.2,10^4 person\n")
    with seeded_db.session() as session:
        batch = imports.create_batch(session, filename="district.csv", content=mixed, actor="zhongshan",
                                     allowed_regions={"210202"})
    assert batch["status"] == "rejected"
    assert [(p["row"], p["field"], p["value"]) for p in batch["problems"]] == [(3, "region", "210203")]
    with seeded_db.session() as session:
        ok = imports.create_batch(session, filename="district.csv", content=mixed, actor="admin")
        with pytest.raises(InputError, match="not one of yours"):
            imports.approve(session, ok["id"], actor="zhongshan", allowed_regions=["210202"])


def test_long_file_names_are_kept_to_the_column_size(db):
    with db.session() as session:
        batch = imports.create_batch(session, filename="统" * 300 + ".csv", content=GOOD, actor="analyst")
    assert batch["status"] == "validated"
    assert len(batch["filename"]) == 255 and batch["filename"].endswith(".csv")
