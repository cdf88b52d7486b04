"""The energy-project registry (issue 15 item 6): registration, stage rules, edits with versions, import
(all-or-nothing), scope, and the 8 GW wind + solar rule (statistics + registry, nothing counted twice)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from citycarbon.data import data_path, read_csv_file
from citycarbon.errors import Forbidden, InputError, NotFound
from citycarbon.projects.supply import EnergyRecord, load_technologies, registry_series, wind_solar_stock
from citycarbon.services.projects import energy_projects as svc
from citycarbon.services.tracking import WIND_SOLAR_PREFIXES
from citycarbon.store.models import AuditEntry
from citycarbon.store.projects import StaleVersion
from tests.projects.support import ANALYST, CHANGXING, CITY, DISTRICT, MIIT, OFFICE, OTHER_DISTRICT, VIEWER, ZHUANGHE

TODAY = date(2026, 12, 7)


def _statistics() -> dict[int, float]:
    """Wind + solar MW by year from the shipped capacity.csv (the seeded ledger holds the same rows)."""
    frame = read_csv_file(data_path("dalian/capacity.csv"))
    rows = frame[frame["technology"].astype(str).str.startswith(WIND_SOLAR_PREFIXES)]
    return {int(y): float(v) for y, v in rows.groupby("year")["capacity"].sum().items()}


def _add(db, principal=OFFICE, **values):
    base = {"name": "庄河海上风电示例", "technology": "wind_offshore", "region_code": ZHUANGHE, "capacity_mw": 300.0}
    return svc.register_energy_project(db, principal, CITY, {**base, **values}, today=TODAY)


def _audits(db) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)))


# ---- the technologies ------------------------------------------------------------------------------------------

def test_technologies_match_the_capacity_codes_and_the_target_prefixes():
    techs = load_technologies()
    capacity = set(read_csv_file(data_path("dalian/capacity.csv"))["technology"].astype(str))
    counted = {c for c, t in techs.items() if t.counts_wind_solar}
    assert counted == {c for c in techs if c.startswith(WIND_SOLAR_PREFIXES)}
    # every wind/solar code of the statistics is a registry technology, so the two line up
    assert {c for c in capacity if c.startswith(WIND_SOLAR_PREFIXES)} <= set(techs)
    assert {"nuclear", "pumped_storage", "biomass", "coal"} <= set(techs)
    assert techs["coal"].actions == ("retirement", "flexibility_retrofit")
    assert techs["pumped_storage"].storage_unit == "MWh"


def test_a_bad_technology_row_names_file_row_and_field(tmp_path):
    text = data_path("projects/energy_technologies.csv").read_text(encoding="utf-8")
    good = "wind_onshore,陆上风电,Onshore wind,wind,MW,,true"
    bad = text.replace(good, good.replace(",true", ",maybe"))
    path = tmp_path / "energy_technologies.csv"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_technologies(path)
    problem = caught.value.problems[0]
    banner = sum(1 for line in text.splitlines() if line.startswith("#"))
    assert (problem.file, problem.row, problem.field) == ("energy_technologies.csv", banner + 2, "counts_wind_solar")


# ---- the rule (pure) --------------------------------------------------------------------------------------------

def test_rule_adds_after_the_statistics_and_shows_earlier_ones():
    stats = {2023: 3000.0, 2024: 4270.0}
    records = [EnergyRecord("A", "wind_offshore", "grid_connected", 250.0, date(2024, 6, 1)),
               EnergyRecord("B", "solar_fishery", "grid_connected", 100.0, date(2025, 3, 1)),
               EnergyRecord("C", "nuclear", "grid_connected", 1000.0, date(2025, 3, 1)),
               EnergyRecord("D", "wind_onshore", "retired", 50.0, date(2010, 1, 1), date(2025, 8, 1))]
    counts = frozenset(c for c, t in load_technologies().items() if t.counts_wind_solar)
    stock = wind_solar_stock(stats, records, counts, date(2025, 12, 31))
    assert stock.statistics_year == 2024
    assert stock.added == (("B", 100.0),)
    assert stock.retired == (("D", 50.0),)
    assert {c for c, _ in stock.in_statistics} == {"A", "D"}
    assert stock.total_mw == 4270.0 + 100.0 - 50.0
    assert registry_series(stats, records, counts, date(2026, 3, 1)) == {2023: 3000.0, 2024: 4270.0,
                                                                         2025: 4270.0 + 100.0 - 50.0}
    assert registry_series(stats, records[:1], counts, date(2026, 3, 1)) == stats  # nothing after: unchanged


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2000), st.floats(0, 500, allow_nan=False),
                          st.one_of(st.none(), st.integers(0, 2000))), max_size=12))
def test_every_connection_counts_once(events):
    """With statistics built from the registry itself up to their year, stats + registry after = registry alone."""
    start = date(2020, 1, 1)
    records = [EnergyRecord(str(i), "wind_onshore", "grid_connected", mw, date.fromordinal(start.toordinal() + c),
                            None if r is None else date.fromordinal(start.toordinal() + c + r))
               for i, (c, mw, r) in enumerate(events)]
    counts = frozenset({"wind_onshore"})
    on = date(2030, 6, 30)

    def alone(day: date) -> float:
        return sum(x.capacity_mw for x in records if x.grid_connected_on <= day
                   and (x.retired_on is None or x.retired_on > day))

    stats = {y: alone(date(y, 12, 31)) for y in (2020, 2021, 2022)}
    assert wind_solar_stock(stats, records, counts, on).total_mw == pytest.approx(alone(on))
    assert wind_solar_stock({}, records, counts, on).total_mw == pytest.approx(alone(on))


# ---- registration, stages, versions ------------------------------------------------------------------------------

def test_register_and_move_forward_with_dates(seeded_db):
    before = _audits(seeded_db)
    view = _add(seeded_db)
    assert view.code == "NY-2026-0001" and view.stage == "planned" and view.version == 1
    assert view.plan_tasks == [10]
    moved = svc.move_stage(seeded_db, OFFICE, CITY, view.code, "approved", on=date(2026, 1, 5), version=1,
                           today=TODAY)
    moved = svc.move_stage(seeded_db, OFFICE, CITY, view.code, "grid_connected", on="2026-11-30", version=2,
                           today=TODAY)
    assert (moved.stage, moved.approved_on, moved.grid_connected_on) == ("grid_connected", "2026-01-05", "2026-11-30")
    detail = svc.get_energy_project(seeded_db, VIEWER, CITY, view.code)
    assert [h["stage"] for h in detail.history] == ["planned", "approved", "grid_connected"]
    assert _audits(seeded_db) == before + 3


@pytest.mark.parametrize(("stage", "on", "field"), [
    ("grid_connected", None, "grid_connected_on"),  # the date is required
    ("grid_connected", "2027-01-01", "grid_connected_on"),  # not in the future
    ("construction", "2025-12-31", "construction_on"),  # not before the approval (2026-01-05)
])
def test_bad_stage_moves_are_refused_and_change_nothing(seeded_db, stage, on, field):
    code = _add(seeded_db, stage="approved", approved_on="2026-01-05").code
    before = _audits(seeded_db)
    with pytest.raises(InputError) as caught:
        svc.move_stage(seeded_db, OFFICE, CITY, code, stage, on=on, version=1, today=TODAY)
    assert field in {p.field for p in caught.value.problems}
    assert all(p.message_zh for p in caught.value.problems)
    assert svc.get_energy_project(seeded_db, OFFICE, CITY, code).version == 1
    assert _audits(seeded_db) == before


def test_going_back_is_a_correction_of_the_office_with_a_reason(seeded_db):
    code = _add(seeded_db, stage="grid_connected", approved_on="2025-01-01", grid_connected_on="2026-05-01").code
    with pytest.raises(InputError):  # a district may not go back
        svc.move_stage(seeded_db, DISTRICT.__class__(3, "d", DISTRICT.role, regions=frozenset({ZHUANGHE}),
                                                     city=CITY), CITY, code, "construction", on="2025-06-01",
                       version=1, correction=True, reason="x", today=TODAY)
    with pytest.raises(InputError) as caught:  # the office without a reason
        svc.move_stage(seeded_db, OFFICE, CITY, code, "construction", on="2025-06-01", version=1, correction=True,
                       today=TODAY)
    assert caught.value.problems[0].field == "reason"
    fixed = svc.move_stage(seeded_db, OFFICE, CITY, code, "construction", on="2025-06-01", version=1,
                           correction=True, reason="并网日期录入有误", today=TODAY)
    assert (fixed.stage, fixed.grid_connected_on, fixed.construction_on) == ("construction", None, "2025-06-01")


def test_a_stale_version_is_refused(seeded_db):
    code = _add(seeded_db).code
    svc.update_energy_project(seeded_db, OFFICE, CITY, code, {"capacity_mw": 320}, version=1, reason="复核")
    with pytest.raises(StaleVersion):
        svc.update_energy_project(seeded_db, OFFICE, CITY, code, {"capacity_mw": 330}, version=1)
    assert svc.get_energy_project(seeded_db, OFFICE, CITY, code).capacity_mw == 320


def test_coal_actions_and_bad_fields(seeded_db):
    view = _add(seeded_db, technology="coal_chp", name="泰山热电", region_code=CHANGXING,
                actions=["flexibility_retrofit"], stage="grid_connected", grid_connected_on="2005-01-01")
    assert view.actions == ["flexibility_retrofit"] and view.plan_tasks == [9, 17]
    with pytest.raises(InputError) as caught:
        _add(seeded_db, technology="wind_onshore", actions=["retirement"], region_code="110101", capacity_mw=-1)
    assert {p.field for p in caught.value.problems} == {"actions", "region_code", "capacity_mw"}


# ---- scope ---------------------------------------------------------------------------------------------------------

def test_scope_districts_edit_their_own_enterprises_read_nothing(seeded_db):
    own = _add(seeded_db, DISTRICT, region_code=CHANGXING).code
    other = _add(seeded_db, region_code=ZHUANGHE).code
    with pytest.raises(NotFound):
        svc.update_energy_project(seeded_db, DISTRICT, CITY, other, {"capacity_mw": 1}, version=1)
    with pytest.raises(NotFound):
        svc.move_stage(seeded_db, OTHER_DISTRICT, CITY, own, "approved", on="2026-01-01", version=1, today=TODAY)
    with pytest.raises(InputError):  # registering in another district
        _add(seeded_db, OTHER_DISTRICT, region_code=CHANGXING)
    for reader in (VIEWER, ANALYST, MIIT, OTHER_DISTRICT):
        assert {p.code for p in svc.list_energy_projects(seeded_db, reader, CITY)} == {own, other}
    for writer in (VIEWER, ANALYST, MIIT):
        with pytest.raises(Forbidden):
            _add(seeded_db, writer)
    from citycarbon.auth.principal import Principal, Role

    enterprise = Principal(9, "ent", Role.enterprise, enterprise_id="X", city=CITY)
    with pytest.raises(Forbidden):
        svc.list_energy_projects(seeded_db, enterprise, CITY)


def test_filters(seeded_db):
    _add(seeded_db)
    _add(seeded_db, technology="pumped_storage", name="庄河抽水蓄能", capacity_mw=1000, storage_mwh=6000,
         stage="construction", construction_on="2022-09-08")
    assert [p.technology for p in svc.list_energy_projects(seeded_db, OFFICE, CITY, group="storage")] == \
        ["pumped_storage"]
    assert [p.stage for p in svc.list_energy_projects(seeded_db, OFFICE, CITY, stage="planned")] == ["planned"]
    assert svc.list_energy_projects(seeded_db, OFFICE, CITY, district=CHANGXING) == []


# ---- import ------------------------------------------------------------------------------------------------------

def _workbook(rows: list[dict]) -> bytes:
    from openpyxl import load_workbook

    template = svc.energy_projects_workbook(None, OFFICE, CITY, filled=False).content
    book = load_workbook(io.BytesIO(template))
    sheet = book[svc.SHEET]
    for row in rows:
        sheet.append([row.get(c, "") for c in svc.COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_good_file(seeded_db):
    content = _workbook([
        {"name": "瓦房店陆上风电", "technology": "wind_onshore", "region_code": CHANGXING, "capacity_mw": 200,
         "stage": "construction", "approved_on": "2025-03-01", "construction_on": "2025-09-01",
         "planned_on": "2027-06-30"},
        {"name": "庄河渔光互补", "technology": "solar_fishery", "region_code": ZHUANGHE, "capacity_mw": 100}])
    report = svc.import_energy_projects(seeded_db, OFFICE, CITY, content, "projects.xlsx", today=TODAY,
                                        apply=True)
    assert report.created == ["NY-2026-0001", "NY-2026-0002"] and report.applied
    assert {p.stage for p in svc.list_energy_projects(seeded_db, OFFICE, CITY)} == {"construction", "planned"}


def test_import_preview_numbers_new_rows_apart_and_stores_nothing(seeded_db):
    content = _workbook([{"name": n, "technology": "wind_onshore", "region_code": CHANGXING, "capacity_mw": 5}
                         for n in ("甲", "乙")])
    report = svc.import_energy_projects(seeded_db, OFFICE, CITY, content, "p.xlsx", today=TODAY)
    assert report.created == ["NY-2026-0001", "NY-2026-0002"] and not report.applied
    assert svc.list_energy_projects(seeded_db, OFFICE, CITY) == []


def test_import_bad_file_stores_nothing_and_names_sheet_row_column(seeded_db):
    content = _workbook([
        {"name": "好行", "technology": "wind_onshore", "region_code": CHANGXING, "capacity_mw": 10},
        {"name": "坏行", "technology": "wind_sideways", "region_code": CHANGXING, "capacity_mw": "many",
         "stage": "grid_connected"}])
    before = _audits(seeded_db)
    with pytest.raises(InputError) as caught:
        svc.import_energy_projects(seeded_db, OFFICE, CITY, content, "projects.xlsx", today=TODAY, apply=True)
    found = {(p.file, p.row, p.field) for p in caught.value.problems}
    assert ("projects.xlsx [能源项目]", 3, "technology") in found
    assert ("projects.xlsx [能源项目]", 3, "capacity_mw") in found
    assert all(p.message_zh for p in caught.value.problems)
    assert svc.list_energy_projects(seeded_db, OFFICE, CITY) == [] and _audits(seeded_db) == before


def test_a_district_cannot_import_into_another_district(seeded_db):
    content = _workbook([{"name": "x", "technology": "wind_onshore", "region_code": ZHUANGHE, "capacity_mw": 10}])
    with pytest.raises(InputError) as caught:
        svc.import_energy_projects(seeded_db, DISTRICT, CITY, content, "p.xlsx", today=TODAY)
    assert caught.value.problems[0].field == "region_code"


# ---- the 8 GW card -----------------------------------------------------------------------------------------------

def test_card_adds_a_connection_after_the_statistics_exactly_and_not_an_earlier_one(seeded_db):
    stats = _statistics()
    last = max(stats)
    card = svc.wind_solar_status(seeded_db, VIEWER, CITY, on=TODAY)
    assert card["statistics_year"] == last and card["grid_connected_mw"] == pytest.approx(stats[last])
    assert card["target_mw"] == 8000 and card["base_year"] == 2020
    # 序时进度: tracking's pace rule, (on.year − base) / (2030 − base)
    assert card["time_elapsed_share"] == pytest.approx((TODAY.year - 2020) / (2030 - 2020))
    _add(seeded_db, stage="grid_connected", grid_connected_on=f"{last}-06-01", capacity_mw=250)  # in the statistics
    new = _add(seeded_db, stage="grid_connected", grid_connected_on="2026-03-01", capacity_mw=300).code
    _add(seeded_db, technology="nuclear", stage="grid_connected", grid_connected_on="2026-03-01", capacity_mw=1000)
    card = svc.wind_solar_status(seeded_db, VIEWER, CITY, on=TODAY)
    assert card["grid_connected_mw"] == pytest.approx(stats[last] + 300)
    assert [a["code"] for a in card["added"]] == [new] and len(card["in_statistics"]) == 1
    assert card["progress_share"] is not None
    svc.move_stage(seeded_db, OFFICE, CITY, new, "retired", on="2026-11-01", version=1, today=TODAY)
    assert svc.wind_solar_status(seeded_db, VIEWER, CITY, on=TODAY)["grid_connected_mw"] == pytest.approx(stats[last])
    # a retirement of a project inside the statistics lowers the stock
    old = _add(seeded_db, stage="grid_connected", grid_connected_on="2019-01-01", capacity_mw=48).code
    svc.move_stage(seeded_db, OFFICE, CITY, old, "retired", on="2026-02-01", version=1, today=TODAY)
    assert svc.wind_solar_status(seeded_db, VIEWER, CITY, on=TODAY)["grid_connected_mw"] == \
        pytest.approx(stats[last] - 48)


def test_card_pipeline_by_stage_and_year(seeded_db):
    _add(seeded_db, stage="approved", approved_on="2026-01-01", planned_on="2027-12-31", capacity_mw=400)
    _add(seeded_db, stage="construction", construction_on="2026-02-01", planned_on="2027-06-30", capacity_mw=100)
    _add(seeded_db, capacity_mw=50)
    card = svc.wind_solar_status(seeded_db, OFFICE, CITY, on=TODAY)
    assert card["pipeline_by_stage"]["approved"] == {"count": 1, "capacity_mw": 400.0}
    assert card["pipeline_by_year"] == {"2027": 500.0, "unknown": 50.0}
    path = svc.registry_capacity_path(seeded_db, OFFICE, CITY, today=TODAY)
    stats = _statistics()
    assert path["with_pipeline"][2027] - path["with_pipeline"][2026] == pytest.approx(500.0)
    assert path["grid_connected"][max(stats)] == pytest.approx(stats[max(stats)])
    assert path["undated_mw"] == 50.0
