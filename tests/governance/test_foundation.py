"""The governance foundation (issue 14): schema agrees with the models, the starting registry and matrix are
seeded from the plan's own sentences, writes are versioned and readable as of a past time, and the
``department`` role binds a user to one organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st

from citycarbon.auth.principal import Principal, Role
from citycarbon.governance import split_task_text
from citycarbon.governance.model import Measure
from citycarbon.plan.load import load_plan
from citycarbon.store import (
    governance,
    governance_models,  # noqa: F401  (registers the gov_* tables)
)
from citycarbon.store.base import Base
from citycarbon.store.types import utcnow


def test_models_match_migration(db):
    def ours(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return (str(getattr(table, "name", name)).startswith("gov_")
                or (type_ == "column" and name in ("org_code", "email")))

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": ours})
        assert compare_metadata(context, Base.metadata) == []


def test_plan_sentences_are_the_default_split():
    plan = load_plan("dalian")
    for task in plan.tasks:
        pieces = split_task_text(task.text_zh)
        assert pieces, task.number
        assert "".join(pieces).replace(" ", "") == task.text_zh.strip().replace(" ", "")
        assert all(len(piece) >= 12 for piece in pieces)


@given(st.lists(st.text(alphabet="碳达峰中和推进建设。；,", min_size=1, max_size=40), min_size=1, max_size=8))
def test_split_never_loses_text(parts):
    text = "".join(parts)
    assert "".join(split_task_text(text)) == text.strip()


def test_seeded_registry_and_matrix(seeded_db):
    with seeded_db.session() as session:
        orgs = governance.current_orgs(session, "dalian")
        measures = governance.current_measures(session, "dalian")
    codes = {org.code for org in orgs}
    assert {"office", "drc", "miit", "eco", "z_jinpu", "d210283"} <= codes
    tasks = {measure.task for measure in measures}
    assert tasks == set(range(1, 32))
    assert all(measure.lead in codes for measure in measures)
    assert all(set(measure.units) <= codes for measure in measures)


def test_versioned_write_reads_as_of(seeded_db):
    with seeded_db.session() as session:
        first = governance.current_measures(session, "dalian")[0]
    before = utcnow()
    with seeded_db.session(write=True) as session:
        changed = Measure(**{**first.__dict__, "lead": "miit"})
        assert governance.put_measure(session, "dalian", changed, actor="office", reason="reassigned") is not None
        assert governance.put_measure(session, "dalian", changed, actor="office") is None  # nothing changed
    with seeded_db.session() as session:
        now = {m.code: m for m in governance.current_measures(session, "dalian")}
        then = {m.code: m for m in governance.current_measures(session, "dalian", as_of=before - timedelta(0))}
        history = [r.version for r in governance.measure_rows(session, "dalian", include_inactive=True)
                   if r.code == first.code]
    assert now[first.code].lead == "miit"
    assert then[first.code].lead == first.lead
    assert history == [2]


def test_department_role_binds_one_org():
    with pytest.raises(ValueError):
        Principal(1, "dept", Role.department)
    dept = Principal(1, "dept", Role.department, org="miit")
    assert dept.acts_for_org("miit") and not dept.acts_for_org("eco")
    assert dept.can_file_for("miit") and not dept.can_file_for("eco")
    assert not dept.can_manage_governance("dalian")
    assert dept.narrowed({"read"}).org == "miit"
    assert not dept.narrowed({"read"}).can_file_for("miit")
    district = Principal(2, "zh", Role.district, regions=frozenset({"210283"}))
    assert district.can_file_for("d210283", "210283") and not district.can_file_for("d210281", "210281")
