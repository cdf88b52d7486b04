"""The organisation registry and the responsibility matrix as use cases (issue 14 items 1–2), on SQLite and
PostgreSQL: versioned writes readable as of a past time, audit rows with the reason, imports that validate every
row (file, spreadsheet row and column named) and store nothing on error, and the scope of each role."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, InputError, NotFound
from citycarbon.plan.load import load_plan
from citycarbon.services.governance import registry
from citycarbon.store import audit
from citycarbon.store.models import AuditEntry
from citycarbon.store.types import utcnow
from citycarbon.units import conversion_factor, is_unit

CITY = "dalian"
OFFICE = Principal(1, "office", Role.admin)
OFFICE_READ = Principal(1, "office", Role.admin, scopes=frozenset({"read"}))
ANALYST = Principal(2, "analyst", Role.analyst)
MIIT = Principal(3, "miit-user", Role.department, org="miit")
ECO = Principal(4, "eco-user", Role.department, org="eco")
ZHUANGHE = Principal(5, "zhuanghe", Role.district, regions=frozenset({"210283"}))
VIEWER = Principal(6, "viewer", Role.viewer)
OTHER_CITY = Principal(7, "toy-office", Role.admin, city="toyville")

HEADER = "code,name_zh,name_en,kind,parent,region_code,short_zh\n"


def _audit_count(db) -> int:
    with db.session() as session:
        return audit.count(session)


def _org_versions(db, code: str) -> int:
    from citycarbon.store.governance_models import GovOrg

    with db.session() as session:
        return len(list(session.scalars(select(GovOrg).where(GovOrg.city == CITY, GovOrg.code == code))))


def _matrix_xlsx(measures: list[list], indicators: list[list] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "措施"
    sheet.append(list(registry.MATRIX_MEASURE_COLUMNS))
    for row in measures:
        sheet.append(row)
    if indicators is not None:
        other = workbook.create_sheet("指标")
        other.append(list(registry.MATRIX_INDICATOR_COLUMNS))
        for row in indicators:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- the shipped data ----------------------------------------------------------------------------------------

def test_the_shipped_indicators_use_units_and_agree_with_the_plan():
    """Every indicator of indicators.csv has a pint unit; where it names a plan target, its target converts to the
    plan's value (8 000 MW = 800万千瓦; 41.5 percent = 0.415; 1 850 万m³ = 18.5 million m³)."""
    from citycarbon.data import data_path, read_csv_file
    from citycarbon.governance.defaults import indicators_from_rows

    path = data_path("dalian") / "governance" / "indicators.csv"
    frame = read_csv_file(path)
    plan = load_plan("dalian")
    targets = {t.id: t for t in plan.targets}
    checked = 0
    for record in frame.to_dict("records"):
        assert is_unit(str(record["unit"])), record
        assert str(record["status"]) in registry.INDICATOR_STATUSES
        plan_target = str(record.get("plan_target") or "")
        if plan_target and plan_target != "nan":
            target = targets[plan_target]
            value = float(record["target"]) * conversion_factor(str(record["unit"]), target.unit)
            assert value == pytest.approx(target.value), plan_target
            assert int(record["year"]) == target.year
            checked += 1
        else:  # a value the plan does not give is left empty, not invented
            assert str(record["target"]) in ("", "nan"), record
    assert checked == 4
    by_measure = indicators_from_rows(frame.to_dict("records"))
    assert by_measure["T10-M01"][0].target == 8000 and by_measure["T10-M01"][0].unit == "MW"
    assert by_measure["T21-M02"][1].milestones == {2025: 1700.0}


def test_the_seeded_matrix_carries_the_indicators(seeded_db):
    found = registry.get_measure(seeded_db, OFFICE, CITY, "T10-M01").measure
    wind = next(i for i in found.indicators if i["code"] == "wind_solar_capacity")
    assert (wind["target"], wind["unit"], wind["year"], wind["status"]) == (8000.0, "MW", 2030, "verified")
    pv = next(i for i in registry.get_measure(seeded_db, OFFICE, CITY, "T10-M02").measure.indicators
              if i["code"] == "fishery_pv_capacity")
    assert pv["target"] is None and pv["unit"] == "MW"


# ---- organisations -------------------------------------------------------------------------------------------

def test_every_role_reads_the_list_of_organisations_but_only_the_office_and_analysts_its_history(seeded_db):
    for caller in (OFFICE, ANALYST, MIIT, VIEWER):
        orgs = registry.list_orgs(seeded_db, caller, CITY)
        assert len(orgs) == 38
        assert next(o for o in orgs if o.code == "miit").name_zh == "大连市工业和信息化局"
    assert registry.get_org(seeded_db, ANALYST, CITY, "miit").history[0].changed_by
    shown = registry.get_org(seeded_db, VIEWER, CITY, "miit")
    assert shown.history == [] and shown.org.changed_by == "" and shown.measures == {}
    own = registry.get_org(seeded_db, MIIT, CITY, "miit")
    assert own.measures and set(own.measures.values()) <= {"lead", "co", "district"}
    seen = {o.code for o in registry.list_orgs(seeded_db, ZHUANGHE, CITY)}
    assert "d210283" in seen and "z_hitech" in seen and "miit" in seen
    assert not {"d210202", "z_jinpu"} & seen  # other districts, and a pilot zone of another district
    with pytest.raises(NotFound):
        registry.get_org(seeded_db, ZHUANGHE, CITY, "d210202")
    with pytest.raises(Forbidden):
        registry.list_orgs(seeded_db, OTHER_CITY, CITY)
    with pytest.raises(NotFound):
        registry.get_org(seeded_db, OFFICE, CITY, "nobody")


def test_an_edit_is_a_new_version_audited_with_its_reason_and_the_old_one_reads_as_of(seeded_db):
    before_edit = utcnow()
    rows = _audit_count(seeded_db)
    edited = registry.edit_org(seeded_db, OFFICE, CITY, "miit", {"name_zh": "大连市工业和信息化局(新)"},
                               reason="机构改革")
    assert edited.version == 2 and edited.change_reason == "机构改革"
    assert _audit_count(seeded_db) == rows + 1
    with seeded_db.session() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (entry.entity, entry.entity_id, entry.reason) == ("gov_org", "dalian:miit", "机构改革")
    old = next(o for o in registry.list_orgs(seeded_db, OFFICE, CITY, as_of=before_edit) if o.code == "miit")
    assert old.name_zh == "大连市工业和信息化局"
    history = registry.get_org(seeded_db, OFFICE, CITY, "miit").history
    assert [h.version for h in history] == [1, 2] and history[0].valid_to is not None


def test_an_edit_needs_a_reason_and_valid_fields_and_stores_nothing_otherwise(seeded_db):
    rows = _audit_count(seeded_db)
    with pytest.raises(InputError) as caught:
        registry.edit_org(seeded_db, OFFICE, CITY, "miit", {"kind": "ministry", "parent": "nowhere"}, reason="")
    assert {p.field for p in caught.value.problems} == {"reason", "kind", "parent"}
    assert caught.value.problems[0].message_zh
    with pytest.raises(InputError) as caught:
        registry.edit_org(seeded_db, OFFICE, CITY, "d210202", {"region_code": "999999"}, reason="x")
    assert caught.value.first.field == "region_code"
    assert _audit_count(seeded_db) == rows and _org_versions(seeded_db, "miit") == 1


def test_a_unit_that_carries_measures_cannot_be_deactivated_until_reassigned(seeded_db):
    with pytest.raises(InputError) as caught:
        registry.edit_org(seeded_db, OFFICE, CITY, "miit", {"active": False}, reason="撤销")
    assert caught.value.first.field == "active" and "T04-M01" in caught.value.first.message
    registry.edit_org(seeded_db, OFFICE, CITY, "water", {"active": False}, reason="并入")
    assert "water" not in [o.code for o in registry.list_orgs(seeded_db, OFFICE, CITY)]
    assert "water" in [o.code for o in registry.list_orgs(seeded_db, OFFICE, CITY, include_inactive=True)]
    assert "water" not in [o.code for o in registry.list_orgs(seeded_db, VIEWER, CITY, include_inactive=True)]
    with pytest.raises(NotFound):
        registry.get_org(seeded_db, MIIT, CITY, "water")


@pytest.mark.parametrize("caller", [OFFICE_READ, ANALYST, MIIT, ZHUANGHE, VIEWER, OTHER_CITY])
def test_only_the_office_edits_or_imports(sqlite_db, caller):
    from citycarbon.store.seed import seed_reference

    seed_reference(sqlite_db)
    with pytest.raises(Forbidden):
        registry.edit_org(sqlite_db, caller, CITY, "miit", {"name_en": "x"}, reason="x")
    with pytest.raises(Forbidden):
        registry.import_orgs(sqlite_db, caller, CITY, (HEADER + "water,水务局,,department,,,\n").encode(), "o.csv",
                             apply=True)
    with pytest.raises(Forbidden):
        registry.edit_measure(sqlite_db, caller, CITY, "T01-M01", {"text_en": "x"}, reason="x")
    with pytest.raises(Forbidden):
        registry.import_matrix(sqlite_db, caller, CITY, _matrix_xlsx([]), "m.xlsx", apply=True)


def test_the_registry_imports_all_or_nothing_with_rows_named(seeded_db):
    content = (HEADER + "water,大连市水务局,Water,department,leading_group,,水务局\n"
               "BAD CODE,某单位,,department,,,\n"
               "newzone,新区,,pilot_zone,nowhere,999999,\n"
               "d210299,某区,,district,leading_group,,\n"
               "water,重复,,ministry,,,\n").encode()
    rows = _audit_count(seeded_db)
    with pytest.raises(InputError) as caught:
        registry.import_orgs(seeded_db, OFFICE, CITY, content, "orgs.csv", apply=True)
    where = {(p.row, p.field) for p in caught.value.problems}
    assert {(3, "code"), (4, "parent"), (4, "region_code"), (5, "region_code"), (6, "code")} <= where
    assert all(p.file == "orgs.csv" for p in caught.value.problems)
    assert next(p for p in caught.value.problems if p.row == 4 and p.field == "parent").text_zh.startswith(
        "orgs.csv, 第 4 行")
    assert _audit_count(seeded_db) == rows and _org_versions(seeded_db, "water") == 1


def test_the_registry_import_previews_then_applies(seeded_db):
    content = (HEADER + "water,大连市水务局,Water Affairs,department,leading_group,,水务局\n"
               "z_new,新开放先导区,New Zone,pilot_zone,leading_group,210213,新区\n"
               "drc,大连市发展和改革委员会,Development and Reform Commission,department,leading_group,,市发展改革委\n"
               ).encode("gb18030")
    rows = _audit_count(seeded_db)
    preview = registry.import_orgs(seeded_db, OFFICE, CITY, content, "orgs.csv")
    assert not preview.applied and preview.counts == {"create": 1, "update": 1, "unchanged": 1}
    assert next(c for c in preview.changes if c.code == "water").fields == ["name_en", "short_zh"]
    assert "miit" in preview.not_in_file
    assert _audit_count(seeded_db) == rows
    done = registry.import_orgs(seeded_db, OFFICE, CITY, content, "orgs.csv", apply=True, reason="年度更新")
    assert done.applied and _audit_count(seeded_db) == rows + 2
    assert registry.get_org(seeded_db, OFFICE, CITY, "z_new").org.region_code == "210213"
    assert registry.get_org(seeded_db, OFFICE, CITY, "water").history[-1].change_reason == "年度更新"


def test_the_shipped_registry_file_imports_unchanged_and_the_template_round_trips(seeded_db):
    from citycarbon.data import data_path

    shipped = (data_path("dalian") / "governance" / "organisations.csv").read_bytes()
    assert registry.import_orgs(seeded_db, OFFICE, CITY, shipped, "organisations.csv").counts["unchanged"] == 38
    exported = registry.orgs_workbook(seeded_db, OFFICE, CITY)
    book = load_workbook(io.BytesIO(exported.content))
    assert book.sheetnames[0] == "说明" and "组织机构" in book.sheetnames
    sheet = book["组织机构"]
    assert [c.value for c in sheet[1]] == list(registry.ORG_COLUMNS)
    assert [v.formula1 for v in sheet.data_validations.dataValidation] == ["codelists!$A$2:$A$7"]  # the 6 kinds
    assert registry.import_orgs(seeded_db, OFFICE, CITY, exported.content,
                                exported.filename).counts["unchanged"] == 38
    empty = load_workbook(io.BytesIO(registry.orgs_workbook(seeded_db, OFFICE, CITY, filled=False).content))
    assert empty["组织机构"].max_row == 1


# ---- the matrix ----------------------------------------------------------------------------------------------

def test_a_department_reads_only_the_measures_its_organisation_carries(seeded_db):
    everything = registry.list_measures(seeded_db, OFFICE, CITY)
    assert len(everything) == len(registry.list_measures(seeded_db, ANALYST, CITY)) > 100
    mine = registry.list_measures(seeded_db, MIIT, CITY)
    assert mine and all("miit" in [u.code for u in m.units] for m in mine)
    assert {m.code for m in mine} == {m.code for m in registry.measures_for_org(seeded_db, MIIT, CITY, "miit")}
    foreign = next(m for m in everything if "miit" not in [u.code for u in m.units])
    with pytest.raises(NotFound):
        registry.get_measure(seeded_db, MIIT, CITY, foreign.code)
    with pytest.raises(NotFound):
        registry.measures_for_org(seeded_db, MIIT, CITY, "eco")
    zhuanghe = registry.list_measures(seeded_db, ZHUANGHE, CITY)
    assert zhuanghe and {m.task for m in zhuanghe} == {10}
    assert registry.measures_for_org(seeded_db, ZHUANGHE, CITY, "d210283")[0].role_of("d210283") == "district"
    for caller in (VIEWER, Principal(8, "ent", Role.enterprise, enterprise_id="X")):
        assert registry.list_measures(seeded_db, caller, CITY) == []
        with pytest.raises(NotFound):
            registry.get_measure(seeded_db, caller, CITY, "T10-M01")
    book = load_workbook(io.BytesIO(registry.matrix_workbook(seeded_db, MIIT, CITY).content))
    assert book["措施"].max_row == len(mine) + 1


def test_a_measure_edit_checks_units_against_the_registry_and_is_versioned(seeded_db):
    rows = _audit_count(seeded_db)
    with pytest.raises(InputError) as caught:
        registry.edit_measure(seeded_db, OFFICE, CITY, "T10-M02", {
            "lead": "nobody", "co_units": ["drc", "ghost"], "districts": ["miit"], "deadline": "2030-13-01",
            "indicators": [{"code": "pv", "name_zh": "光伏", "unit": "bananas"}]}, reason="调整")
    assert {p.field for p in caught.value.problems} == {"lead", "co_units", "districts", "deadline", "unit"}
    assert _audit_count(seeded_db) == rows
    before = utcnow()
    edited = registry.edit_measure(seeded_db, OFFICE, CITY, "T10-M02", {
        "lead": "drc", "co_units": ["natres", "marine"], "districts": ["d210283", "z_changxing"],
        "deadline": "2027-12-31", "milestones": {"2025": "完成选址"},
        "indicators": [{"code": "fishery_pv_capacity", "name_zh": "“渔光互补”滩涂光伏装机容量", "unit": "MW",
                        "target": 500, "year": 2027, "milestones": {"2025": 200}, "status": "estimate",
                        "source": "办公室测算"}]}, reason="分解到区")
    assert edited.version == 2 and edited.deadline == "2027-12-31"
    assert edited.indicators[0]["target"] == 500.0 and edited.milestones == {"2025": "完成选址"}
    assert [u.name_zh for u in edited.units][-1] == "长兴岛经济区管委会"
    assert _audit_count(seeded_db) == rows + 1
    old = next(m for m in registry.list_measures(seeded_db, OFFICE, CITY, as_of=before) if m.code == "T10-M02")
    assert old.deadline == "2030-12-31" and old.indicators[0]["target"] is None
    assert registry.get_measure(seeded_db, OFFICE, CITY, "T10-M02").history[0].version == 1
    # the same values again: no new version, no audit row
    registry.edit_measure(seeded_db, OFFICE, CITY, "T10-M02", {"deadline": "2027-12-31"}, reason="again")
    assert _audit_count(seeded_db) == rows + 1


def test_measures_no_unit_carries_are_listed(seeded_db):
    registry.edit_measure(seeded_db, OFFICE, CITY, "T31-M01", {"lead": "", "co_units": [], "districts": []},
                          reason="待定")
    unassigned = registry.list_measures(seeded_db, OFFICE, CITY, unassigned=True)
    assert [m.code for m in unassigned] == ["T31-M01"] and unassigned[0].units == []
    assert registry.list_measures(seeded_db, ECO, CITY, task=31) == registry.list_measures(
        seeded_db, ECO, CITY, task=31, org="eco")
    assert "T31-M01" not in [m.code for m in registry.list_measures(seeded_db, ECO, CITY)]


def test_the_matrix_imports_all_or_nothing_with_sheet_row_and_field_named(seeded_db):
    content = _matrix_xlsx(
        [["T05-M01", 5, "text", "drc", "miit;ghost", "", "2030-12-31", "", ""],
         ["T5-M1", 5, "bad code", "drc", "", "", "", "", ""],
         ["T05-M02", 6, "", "drc", "", "miit", "31/12/2030", "2025", ""]],
        [["T05-M01", "cap", "装机", "", "bananas", "x", 2030, "", "", ""],
         ["T99-M01", "cap", "装机", "", "MW", "", "", "", "", ""]])
    rows = _audit_count(seeded_db)
    with pytest.raises(InputError) as caught:
        registry.import_matrix(seeded_db, OFFICE, CITY, content, "matrix.xlsx", apply=True)
    where = {(p.file, p.row, p.field) for p in caught.value.problems}
    measures, indicators = "matrix.xlsx [措施]", "matrix.xlsx [指标]"
    assert {(measures, 2, "co_units"), (measures, 3, "code"), (measures, 4, "task"), (measures, 4, "text_zh"),
            (measures, 4, "districts"), (measures, 4, "deadline"), (measures, 4, "milestones"),
            (indicators, 2, "unit"), (indicators, 2, "target"), (indicators, 3, "measure")} <= where
    assert _audit_count(seeded_db) == rows
    with pytest.raises(InputError) as caught:
        registry.import_matrix(seeded_db, OFFICE, CITY, b"code,task\n", "matrix.csv")
    assert caught.value.first.file == "matrix.csv"


def test_the_matrix_exports_and_imports_back_and_a_changed_row_is_a_new_version(seeded_db):
    exported = registry.matrix_workbook(seeded_db, OFFICE, CITY)
    book = load_workbook(io.BytesIO(exported.content))
    assert book.sheetnames[:3] == ["说明", "codelists", "措施"] or "措施" in book.sheetnames
    assert "target (单位见 unit 列 / see unit)" in [c.value for c in book["指标"][1]]
    same = registry.import_matrix(seeded_db, OFFICE, CITY, exported.content, exported.filename)
    assert same.counts["update"] == 0 and same.counts["unchanged"] == len(registry.list_measures(seeded_db, OFFICE,
                                                                                                 CITY))
    sheet = book["措施"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "T13-M05":
            row[4].value = "drc; grid"
            row[6].value = date(2026, 12, 31)
    indicators = book["指标"]
    for row in indicators.iter_rows(min_row=2):
        if row[1].value == "charging_points":
            row[5].value = 20000
            row[6].value = 2025
    buffer = io.BytesIO()
    book.save(buffer)
    rows = _audit_count(seeded_db)
    report = registry.import_matrix(seeded_db, OFFICE, CITY, buffer.getvalue(), "matrix.xlsx", apply=True,
                                    reason="年度调度")
    assert [(c.code, c.action) for c in report.changes if c.action != "unchanged"] == [("T13-M05", "update")]
    assert _audit_count(seeded_db) == rows + 1
    measure = registry.get_measure(seeded_db, OFFICE, CITY, "T13-M05")
    assert measure.measure.co_units == ["drc", "grid"] and measure.measure.deadline == "2026-12-31"
    points = next(i for i in measure.measure.indicators if i["code"] == "charging_points")
    assert (points["target"], points["year"], points["unit"]) == (20000.0, 2025, "count")
    assert measure.history[-1].change_reason == "年度调度"


def test_a_new_measure_comes_in_by_import(seeded_db):
    content = _matrix_xlsx([["T05-M09", 5, "新增措施: 建设零碳园区", "drc", "miit", "z_jinpu", "2028-06-30",
                             "2026:启动; 2028:建成", "Build zero-carbon parks"]],
                           [["T05-M09", "zero_carbon_parks", "零碳园区", "Zero-carbon parks", "count", 3, 2028,
                             "2026:1", "estimate", "办公室"]])
    report = registry.import_matrix(seeded_db, OFFICE, CITY, content, "new.xlsx", apply=True)
    assert report.counts["create"] == 1
    shown = registry.get_measure(seeded_db, MIIT, CITY, "T05-M09").measure
    assert shown.milestones == {"2026": "启动", "2028": "建成"}
    assert shown.indicators[0]["milestones"] == {"2026": 1.0}
    assert [u.role for u in shown.units] == ["lead", "co", "district"]


def test_seeded_districts_carry_their_gbt2260_codes_as_text(seeded_db):
    """organisations.csv's region_code column is read as numbers by pandas; the registry stores '210202', not
    '210202.0' (else no district user would act for its district)."""
    orgs = {o.code: o for o in registry.list_orgs(seeded_db, OFFICE, CITY)}
    assert orgs["d210202"].region_code == "210202" and orgs["z_jinpu"].region_code == "210213"


@given(st.dictionaries(st.integers(1990, 2100), st.floats(allow_nan=False, allow_infinity=False), max_size=6))
def test_indicator_milestones_written_to_a_cell_read_back_exactly(milestones):
    """The workbook's ``2025:16; 2030:25`` cell is an identity: export then import gives the same numbers."""
    from citycarbon.governance.defaults import format_milestones, parse_milestones

    assert parse_milestones(format_milestones(milestones)) == milestones
