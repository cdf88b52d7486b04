"""What the assessment-run tests share (issue 16, runs): callers of every role, a small hand-worked scheme, three
units and fake fact collectors (registered in ``COLLECTORS`` for the test only, restored after).

The scheme ``handtest`` (100 base points):

=========  ==========  =====================================  ==========================
item       fact        scoring                                points
=========  ==========  =====================================  ==========================
a          t_a         linear zero 0, full 1                  60
b          t_b         threshold min 0.9                      20
q          —           qualitative, default 15                20
v          t_v         veto max 0                             —
p          t_p         penalty per 2, cap 6                   —
=========  ==========  =====================================  ==========================

The facts and the hand-worked scores:

* ``d1`` (中山区, 210202): a 0.8 → 48.00, b 0.95 → 20, q 15, v 0, p 1 → −2: **81.00 良好**, rank 1;
* ``d2`` (西岗区, 210203): a 0.5 (estimate) → 30.00, b 0.8 → 0, q 15, v 0, p missing → 0: **45.00 不合格**,
  estimate, rank 2;
* ``z1`` (高新区, pilot zone): a 1.2 → 60, b missing → 0 (incomplete), q 15, v 1 → 一票否决, p 0: 75.00 but
  **不合格** (vetoed), rank 3 (vetoed units rank last).

``t_a`` of ``d1`` is read from the ledger as of the run (0.8 while the statistics table holds one value, 0.9 once
it holds more): a later ledger write changes a new run but not a reproduction of the old one.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pandas as pd

from citycarbon.assessment import Fact
from citycarbon.auth.principal import Principal, Role

CITY = "dalian"
OFFICE = Principal(1, "office", Role.admin)
OFFICE_READ = OFFICE.narrowed({"read"})
ANALYST = Principal(2, "analyst", Role.analyst)
VIEWER = Principal(3, "viewer", Role.viewer, scopes=frozenset({"read"}))
DEPT = Principal(4, "dept-miit", Role.department, org="miit")
ZHONGSHAN = Principal(6, "district-zs", Role.district, regions=frozenset({"210202"}))
XIGANG = Principal(8, "district-xg", Role.district, regions=frozenset({"210203"}))
ENTERPRISE = Principal(7, "ent", Role.enterprise, enterprise_id="91210200MA0XXXXXXU")

SCHEME = """
code: handtest
version: 1
name_zh: 测试考核方案
name_en: Hand-worked test scheme
applies_to: [district, pilot_zone]
document: 测试用
status: estimate
effective_from: 2024
objection_days: 10
veto_grade: fail
grades:
  - {code: excellent, name_zh: 优秀, name_en: Excellent, min: 90}
  - {code: good, name_zh: 良好, name_en: Good, min: 80}
  - {code: pass, name_zh: 合格, name_en: Pass, min: 60}
  - {code: fail, name_zh: 不合格, name_en: Fail, min: 0}
indicators:
  - {code: a, name_zh: 指标甲, name_en: A, category: target, fact: t_a, points: 60,
     scoring: {kind: linear, zero: 0, full: 1}}
  - {code: b, name_zh: 指标乙, name_en: B, category: supervision, fact: t_b, points: 20,
     scoring: {kind: threshold, min: 0.9}}
  - {code: q, name_zh: 组织领导, name_en: Organisation, category: qualitative, points: 20,
     scoring: {kind: qualitative, default: 15}}
  - {code: v, name_zh: 否决项, name_en: Veto, category: projects, fact: t_v, scoring: {kind: veto, max: 0}}
  - {code: p, name_zh: 扣分项, name_en: Penalty, category: supervision, fact: t_p,
     scoring: {kind: penalty, per: 2, cap: 6}}
"""

ORGS = (("d1", "中山区", "Zhongshan", "district", "210202"), ("d2", "西岗区", "Xigang", "district", "210203"),
        ("z1", "高新区", "Hi-tech zone", "pilot_zone", None), ("miit", "工业和信息化局", "MIIT", "department", None))

EXPECTED = {"d1": ("81.00", "good", 1), "d2": ("45.00", "fail", 2), "z1": ("75.00", "fail", 3)}


def setup_units(db) -> None:
    """The four organisations of the tests (a new registry: the migrated test database holds none)."""
    from citycarbon.governance.model import Organisation, OrgKind
    from citycarbon.store import governance

    with db.session(write=True) as session:
        for code, zh, en, kind, region in ORGS:
            governance.put_org(session, CITY, Organisation(code=code, name_zh=zh, name_en=en, kind=OrgKind(kind),
                                                           region_code=region), actor="test")


def register_test_scheme(db) -> None:
    from citycarbon.services.assessment import runs

    runs.register_scheme(db, OFFICE, CITY, SCHEME, "handtest.yaml")


def write_statistics(db, values: dict[int, float]) -> None:
    """One ledger write (a new ledger version)."""
    from citycarbon.store import ledger

    frame = pd.DataFrame({"year": list(values), "region": "210200", "variable": "gdp",
                          "value": list(values.values()), "unit": "10^8 CNY",
                          "price_base_year": pd.array([None] * len(values), dtype="Int64"),
                          "status": "official", "source": "test"})
    with db.session(write=True) as session:
        ledger.write_frame(session, "statistics", frame, actor="test", scope="none")


def _collect(ctx):
    from citycarbon.store import ledger

    with ctx.db.session() as session:
        rows = ledger.observations_at(session, "statistics", as_of=ctx.as_of)
    evidence = ({"kind": "figure", "series": "statistics", "rows": rows, "ledger_version": ctx.ledger_version},)
    facts = {
        "d1": {"t_a": Fact(0.8 if rows <= 1 else 0.9, evidence=evidence, note_zh="按台账计"), "t_b": Fact(0.95),
               "t_v": Fact(0), "t_p": Fact(1, unit="1")},
        "d2": {"t_a": Fact(0.5, estimate=True), "t_b": Fact(0.8), "t_v": Fact(0)},
        "z1": {"t_a": Fact(1.2), "t_v": Fact(1), "t_p": Fact(0, unit="1")},
    }
    return {unit: values for unit, values in facts.items() if any(u.code == unit for u in ctx.units)}


@contextmanager
def fake_collectors():
    from citycarbon.services.assessment import facts

    facts._load_collectors()
    saved = dict(facts.COLLECTORS)
    try:
        for key in ("t_a", "t_b", "t_v", "t_p"):
            facts.COLLECTORS[key] = _collect
        yield
    finally:
        facts.COLLECTORS.clear()
        facts.COLLECTORS.update(saved)


def prepared(db) -> None:
    """Units, the test scheme and one ledger write."""
    setup_units(db)
    register_test_scheme(db)
    write_statistics(db, {2020: 100.0})


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def _collect_every_unit(ctx):
    """The same facts for every unit (81.00 under ``handtest``: a 0.8 → 48, b 0.95 → 20, q 15, p 1 → −2)."""
    return {u.code: {"t_a": Fact(0.8, estimate=u.code.endswith("3")), "t_b": Fact(0.95), "t_v": Fact(0),
                     "t_p": Fact(1, unit="1")} for u in ctx.units}


@contextmanager
def uniform_collectors():
    from citycarbon.services.assessment import facts

    facts._load_collectors()
    saved = dict(facts.COLLECTORS)
    try:
        for key in ("t_a", "t_b", "t_v", "t_p"):
            facts.COLLECTORS[key] = _collect_every_unit
        yield
    finally:
        facts.COLLECTORS.clear()
        facts.COLLECTORS.update(saved)
