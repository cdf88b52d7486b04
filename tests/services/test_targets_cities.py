"""Explicit cities and target values set in the platform (issue 13 items 2–3), without any face, on SQLite and
PostgreSQL: two cities in one database, the city scope, the toy city's set target rated by status."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Conflict, Forbidden, InputError
from citycarbon.services import cities, targets, tracking
from citycarbon.store import audit, ledger

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cities"
PLAN = FIXTURES / "toyville.yaml"
PROFILE = FIXTURES / "toyville_accounting.yaml"
ROOT = Principal(1, "root", Role.admin)
TOY_ADMIN = Principal(2, "toyadmin", Role.admin, city="toyville")
OTHER_ADMIN = Principal(3, "otheradmin", Role.admin, city="otherville")
ANALYST = Principal(4, "ana", Role.analyst)
TARGET = "energy_intensity_reduction_2025"
DOC = "辽政发〔2022〕12号"


def _toy(db) -> cities.CityInfo:
    return cities.init_city(db, ROOT, PLAN, accounting_file=PROFILE)


def _toy_data(db, q2021: float = 900.0) -> None:
    """Toy ledger: raw coal 1000 t (2020) and ``q2021`` t (2021) in industry; GDP 100 亿元 both years."""
    balance = pd.DataFrame([{"year": y, "region": "990100", "flow": "final_consumption", "sector": "industry",
                             "fuel": "raw_coal", "quantity": q, "unit": "t", "status": "official", "source": "toy"}
                            for y, q in ((2020, 1000.0), (2021, q2021))])
    stats = pd.DataFrame([{"year": y, "region": "990100", "variable": "gdp", "value": 100.0, "unit": "10^8 CNY",
                           "price_base_year": base, "status": "official", "source": "toy"}
                          for y in (2020, 2021) for base in (None, 2020)])
    with db.session(write=True) as session:
        ledger.write_frame(session, "balance", balance, actor=ROOT)
        ledger.write_frame(session, "statistics", stats, actor=ROOT)


def test_init_city_creates_an_empty_city_with_its_profile(db):
    info = _toy(db)
    assert (info.code, info.region_code, info.targets) == ("toyville", "990100", 2)
    assert info.datasets == {} and info.missing == ["balance", "statistics"]
    assert cities.accounting_profile("toyville", db) == {"method": "coal-equivalent", "include_process": False}
    assert cities.accounting_profile("nowhere", db) is None
    assert [c.code for c in cities.list_cities(db, ROOT)] == ["toyville"]
    with db.session() as session:
        assert [e["action"] for e in audit.query(session, entity="city")] == ["city.create"]
    with pytest.raises(Conflict):
        _toy(db)


def test_init_city_refuses_bad_plans_and_non_admins(db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(PLAN.read_text(encoding="utf-8").replace("comparison: at_least", "comparison: atleast"),
                   encoding="utf-8")
    with pytest.raises(InputError) as caught:
        cities.init_city(db, ROOT, bad)
    assert caught.value.first.file.endswith("bad.yaml") and caught.value.first.row
    for caller in (TOY_ADMIN, ANALYST):
        with pytest.raises(Forbidden):
            cities.init_city(db, caller, PLAN)
    with pytest.raises(InputError):
        cities.init_city(db, ROOT, PLAN, accounting_file=FIXTURES / "missing.yaml")


def test_a_city_without_data_names_what_is_missing(db):
    _toy(db)
    with pytest.raises(InputError, match=r"toyville.*no balance and no statistics"):
        tracking.status_report(2021, city="toyville", source="store")


def test_set_value_is_versioned_audited_and_rated_by_status(db):
    _toy(db)
    _toy_data(db)
    entries = {e.id: e for e in targets.list_targets(db, ROOT, "toyville")}
    assert entries[TARGET].origin == "pending" and entries["co2_peak_2030"].origin == "plan"
    first = targets.set_target_value(db, ROOT, "toyville", TARGET, value=13.5, unit="percent", document=DOC,
                                     document_date="2022-05-01", note="十四五")
    assert math.isclose(first.value_in_target_unit, 0.135)
    assert (first.document, first.document_date, first.note, first.recorded_by) == (DOC, "2022-05-01", "十四五",
                                                                                   "root")
    between = datetime.now(UTC)
    second = targets.set_target_value(db, ROOT, "toyville", TARGET, value=0.14, unit="dimensionless",
                                      document="辽政发〔2023〕3号", document_date="2023-02-01")
    history = targets.target_history(db, ROOT, "toyville", TARGET)
    assert [h.value for h in history] == [13.5, 0.14] and history[0].superseded_at is not None
    as_of = {e.id: e for e in targets.list_targets(db, ROOT, "toyville", as_of=between)}
    assert math.isclose(as_of[TARGET].value, 0.135)
    with db.session() as session:
        actions = [e["action"] for e in audit.query(session, entity="target")]
    assert actions == ["target.set", "target.set"]
    report = tracking.status_report(2021, city="toyville", source="store")
    row = next(r for r in report["targets"] if r["id"] == TARGET)
    # hand-computed: intensity 2021/2020 = (900 t / 100) / (1000 t / 100) → reduction 10 % (coal coefficient cancels)
    assert math.isclose(row["actual"], 0.10, abs_tol=1e-12)
    assert math.isclose(row["target_value"], 0.14) and row["level"] is not None
    assert row["value_source"]["origin"] == "set" and row["value_source"]["document"] == second.document
    assert row["value_source"]["set_by"] == "root"


def test_targets_file_stays_a_what_if_over_the_platform_value(db, tmp_path):
    _toy(db)
    _toy_data(db)
    targets.set_target_value(db, ROOT, "toyville", TARGET, value=0.14, unit="1", document=DOC)
    what_if = tmp_path / "what_if.yaml"
    what_if.write_text(f"{TARGET}: 0.05\n", encoding="utf-8")
    row = next(r for r in tracking.status_report(2021, city="toyville", source="store", targets_file=what_if)[
        "targets"] if r["id"] == TARGET)
    assert math.isclose(row["target_value"], 0.05) and row["value_source"]["origin"] == "override"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"value": 1.0, "unit": "t", "document": DOC}, "unit"),
    ({"value": 1.0, "unit": "parsecs_per_bogon", "document": DOC}, "unit"),
    ({"value": float("inf"), "unit": "percent", "document": DOC}, "value"),
    ({"value": 1.0, "unit": "percent", "document": " "}, "document"),
    ({"value": 1.0, "unit": "percent", "document": "a | b"}, "document"),
    ({"value": 1.0, "unit": "percent", "document": DOC, "document_date": "2022-13-01"}, "date"),
    ({"value": 1.0, "unit": "percent", "document": DOC, "document_date": "2999-01-01"}, "date"),
])
def test_bad_values_are_refused_naming_the_field(db, kwargs, field):
    _toy(db)
    with pytest.raises(InputError) as caught:
        targets.set_target_value(db, ROOT, "toyville", TARGET, **kwargs)
    assert caught.value.first.field == field
    assert targets.target_history(db, ROOT, "toyville", TARGET) == []


def test_unknown_and_plan_fixed_targets_are_refused(db):
    _toy(db)
    with pytest.raises(InputError) as caught:
        targets.set_target_value(db, ROOT, "toyville", "energy_intensity_reduction_2052", value=0.1, unit="1",
                                 document=DOC)
    assert caught.value.first.suggestion == TARGET
    with pytest.raises(InputError, match="the plan fixes"):
        targets.set_target_value(db, ROOT, "toyville", "co2_peak_2030", value=2028, unit="year", document=DOC)


def test_city_scope_is_applied_in_the_services(db):
    _toy(db)
    assert targets.set_target_value(db, TOY_ADMIN, "toyville", TARGET, value=0.1, unit="1", document=DOC)
    for call in (lambda: targets.list_targets(db, OTHER_ADMIN, "toyville"),
                 lambda: targets.set_target_value(db, OTHER_ADMIN, "toyville", TARGET, value=0.2, unit="1",
                                                  document=DOC),
                 lambda: targets.target_history(db, OTHER_ADMIN, "toyville", TARGET),
                 lambda: cities.city_info(db, OTHER_ADMIN, "toyville")):
        with pytest.raises(Forbidden):
            call()
    assert cities.list_cities(db, OTHER_ADMIN) == []
    with pytest.raises(Forbidden):  # an analyst reads but does not set
        targets.set_target_value(db, ANALYST, "toyville", TARGET, value=0.2, unit="1", document=DOC)
    assert [h.value for h in targets.target_history(db, ANALYST, "toyville", TARGET)] == [0.1]


def test_two_cities_in_one_database_never_mix(seeded_db):
    _toy(seeded_db)
    _toy_data(seeded_db, q2021=950.0)
    dalian = tracking.status_report(2021, city="dalian", source="store")
    toy = tracking.status_report(2021, city="toyville", source="store")
    assert toy["region"] == "990100" and dalian["region"] == "210200"
    assert toy["districts"] == [] and dalian["districts"]
    toy_row = next(r for r in toy["targets"] if r["id"] == TARGET)
    assert math.isclose(toy_row["actual"], 0.05, abs_tol=1e-12)
    with seeded_db.session() as session:
        toy_balance = ledger.reference_dataset(session, "toyville").balance
        dalian_balance = ledger.reference_dataset(session, "dalian").balance
    assert set(toy_balance["region"].astype(str)) == {"990100"} and len(toy_balance) == 2
    assert "990100" not in set(dalian_balance["region"].astype(str))
    # a value set for Dalian is rated for Dalian only
    targets.set_target_value(seeded_db, ROOT, "dalian", TARGET, value=14.5, unit="percent", document=DOC,
                             document_date="2022-03-01")
    dalian_row = next(r for r in tracking.status_report(2021, city="dalian", source="store")["targets"]
                      if r["id"] == TARGET)
    assert math.isclose(dalian_row["target_value"], 0.145) and dalian_row["value_source"]["origin"] == "set"
    toy_row = next(r for r in tracking.status_report(2021, city="toyville", source="store")["targets"]
                   if r["id"] == TARGET)
    assert toy_row["target_value"] is None and toy_row["value_source"]["origin"] == "pending"


def test_district_allocation_overrides_the_factor(seeded_db):
    targets.set_target_value(seeded_db, ROOT, "dalian", TARGET, value=0.145, unit="1", document=DOC)
    allocation = targets.set_allocation(seeded_db, ROOT, "dalian", "210211", TARGET, value=16, unit="percent",
                                        document="大政发〔2022〕5号", document_date="2022-06-01")
    assert allocation.region == "210211"
    report = tracking.status_report(2021, city="dalian", source="store", region="210211")
    row = next(r for r in report["targets"] if r["id"] == TARGET)
    assert math.isclose(row["target_value"], 0.16) and row["value_source"]["document"] == "大政发〔2022〕5号"
    with pytest.raises(InputError):
        targets.set_allocation(seeded_db, ROOT, "dalian", "990100", TARGET, value=0.1, unit="1", document=DOC)
    entry = next(e for e in targets.list_targets(seeded_db, ROOT, "dalian") if e.id == TARGET)
    assert [a.region for a in entry.allocations] == ["210211"]


def test_document_round_trip():
    from datetime import date

    text = targets.format_document(DOC, date(2022, 5, 1), "note")
    assert targets.parse_document(text) == (DOC, "2022-05-01", "note")
    assert targets.parse_document(DOC) == (DOC, None, None)
    assert targets.parse_document(f"{DOC} | not a date") == (f"{DOC} | not a date", None, None)
