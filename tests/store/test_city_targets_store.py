"""Migration ``0103_city_targets`` and the store of explicit cities and target rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from citycarbon.plan.load import validate_plan_file
from citycarbon.store import (
    cities,
    city_models,  # noqa: F401  (registers city_profiles)
    ledger,
)
from citycarbon.store.base import Base
from citycarbon.store.models import RegionRecord

PLAN = Path(__file__).parents[1] / "fixtures" / "cities" / "toyville.yaml"


def test_migration_0103_adds_and_removes_its_table_and_column(bare_db):
    bare_db.upgrade("0102_login_throttle")
    assert "city_profiles" not in inspect(bare_db.engine).get_table_names()
    bare_db.upgrade("0103_city_targets")
    assert "city_profiles" in inspect(bare_db.engine).get_table_names()
    assert "city" in {c["name"] for c in inspect(bare_db.engine).get_columns("users")}
    bare_db.downgrade("0102_login_throttle")
    assert "city_profiles" not in inspect(bare_db.engine).get_table_names()
    assert "city" not in {c["name"] for c in inspect(bare_db.engine).get_columns("users")}


def test_models_match_migration_0103(db):
    def ours(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", name) == "city_profiles" or (type_ == "column" and name == "city")

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": ours})
        assert compare_metadata(context, Base.metadata) == []


def test_record_city_and_target_rows_as_of(db):
    plan = validate_plan_file(PLAN)
    with db.session() as session:
        cities.record_city(session, code="toyville", plan=plan, document=PLAN.read_text("utf-8"),
                           accounting={"method": "calorific"}, accounting_source="p.yaml", actor="test",
                           parent_code="990000")
    with db.session() as session:
        assert cities.plan_record(session, "toyville").region_code == "990100"
        assert session.get(RegionRecord, "990100").parent_code is None  # 990000 is not stored: no dangling parent
        assert cities.profile(session, "toyville").accounting == {"method": "calorific"}
    frame = pd.DataFrame([{"year": 2025, "region": "990100", "target_id": "energy_intensity_reduction_2025",
                           "value": 0.1, "unit": "1", "status": "official", "source": "文号1"}])
    with db.session() as session:
        ledger.write_frame(session, "target_values", frame, actor="office", scope="none")
    between = datetime.now(UTC)
    with db.session() as session:
        ledger.write_frame(session, "target_values", frame.assign(value=0.2, source="文号2"), actor="office2",
                           scope="none")
    with db.session() as session:
        now = cities.target_rows(session, "target_values", ["990100"])
        then = cities.target_rows(session, "target_values", ["990100"], as_of=between)
        history = cities.target_history(session, "target_values", "990100", "energy_intensity_reduction_2025")
        other = cities.target_rows(session, "target_values", ["210200"])
    assert [(r["value"], r["recorded_by"]) for r in now] == [(0.2, "office2")]
    assert [(r["value"], r["source"]) for r in then] == [(0.1, "文号1")]
    assert [r["value"] for r in history] == [0.1, 0.2] and history[0]["superseded_at"] is not None
    assert other == []
