"""The city scope applied once, in the services, for every face (issue 14, gaps of issue 13): a caller scoped to
another city than the deployment's is refused by the import, user, audit, pathway and monitoring services; a
city-scoped administrator reaches only its own city's users; a city-scoped uploader imports only its city's
regions. A new city's districts registered with ``city init --regions`` pass the import's region check.
On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, InputError
from citycarbon.services import audit, cities, imports, users
from citycarbon.services.monitoring import MonitoringService, visible_units
from citycarbon.services.monitoring.city import City
from citycarbon.services.pathways import service_for

TOY_PLAN = Path(__file__).parents[1] / "fixtures" / "cities" / "toyville.yaml"
ROOT = Principal(1, "root", Role.admin)
TOY_ADMIN = Principal(2, "toyadmin", Role.admin, city="toyville")
TOY_ANALYST = Principal(3, "toyanalyst", Role.analyst, city="toyville")
TOY_ENTERPRISE = Principal(4, "toyent", Role.enterprise, enterprise_id="E1", city="toyville")
DALIAN_ADMIN = Principal(5, "dladmin", Role.admin, city="dalian")
STATS = "year,region,variable,value,unit,price_base_year,status,source\n"
ROW = "2022,{region},population,80.1,10^4 person,,,\n"
TOY_REGIONS = ("code,name_zh,name_en,level,notes\n990102,玩具一区,Toy District One,district,fictional\n"
               "990181,玩具县级市,Toy County City,county,fictional\n")


def _upload(db, principal, region: str, **kwargs):
    return imports.upload_batch(db, principal, filename="stats.csv", content=(STATS + ROW.format(region=region))
                                .encode(), kind="statistics", **kwargs)


def test_every_import_entry_point_refuses_another_citys_user(db):
    batch = _upload(db, ROOT, "210211")
    assert batch.status == "validated"
    for who in (TOY_ADMIN, TOY_ANALYST):
        for call in (lambda p: _upload(db, p, "210211"),
                     lambda p: imports.list_batches(db, p),
                     lambda p: imports.get_batch(db, p, batch.id),
                     lambda p: imports.approve_batch(db, p, batch.id),
                     lambda p: imports.discard_batch(db, p, batch.id),
                     lambda p: imports.import_file(db, p, filename="s.csv", content=b"x", approve=False)):
            with pytest.raises(Forbidden) as refused:
                call(who)
            if who is TOY_ADMIN:  # the analyst may hear its role's refusal (approving) first
                assert refused.value.code == "city_scope"
    assert imports.get_batch(db, ROOT, batch.id).status == "validated"  # nothing changed


def test_a_city_scoped_uploader_imports_only_its_citys_regions_and_sees_its_citys_batches(seeded_db):
    db = seeded_db
    mine = _upload(db, DALIAN_ADMIN, "210211")
    assert mine.status == "validated"
    with pytest.raises(InputError) as foreign:  # a region of no Dalian district: named by row, nothing stored
        _upload(db, DALIAN_ADMIN, "210000")
    assert foreign.value.first.row == 2 and foreign.value.first.field == "region"
    root_batch = _upload(db, ROOT, "210211")  # uploaded by an unscoped account (the deployment's operator)
    seen = {b.id for b in imports.list_batches(db, DALIAN_ADMIN)}
    assert mine.id in seen and root_batch.id not in seen
    assert {b.id for b in imports.list_batches(db, ROOT)} >= {mine.id, root_batch.id}


def test_a_new_citys_registered_districts_pass_the_import_region_check(db, tmp_path):
    regions = tmp_path / "toy_regions.csv"
    regions.write_text(TOY_REGIONS, encoding="utf-8")
    rejected = _upload(db, ROOT, "990102")  # before the city exists: an unknown region, named by row
    assert rejected.status == "rejected" and rejected.problems[0].row == 2 and rejected.problems[0].field == "region"
    cities.init_city(db, ROOT, TOY_PLAN, regions_file=regions)
    batch = imports.import_file(db, ROOT, filename="toy.csv", content=(STATS + ROW.format(region="990102")).encode(),
                                kind="statistics", approve=True, city="toyville")
    assert batch.batch.status == "approved" and batch.approval is not None and batch.approval.inserted == 1
    # the toy city's own users import their districts through the same service, for their city
    toy = imports.upload_batch(db, TOY_ADMIN, filename="t.csv", content=(STATS + ROW.format(region="990181")).encode(),
                               kind="statistics", city="toyville")
    assert toy.status == "validated"
    with pytest.raises(InputError) as foreign:
        imports.upload_batch(db, TOY_ADMIN, filename="t.csv", content=(STATS + ROW.format(region="210211")).encode(),
                             kind="statistics", city="toyville")
    assert foreign.value.first.row == 2


@pytest.mark.parametrize("text, row, field", [
    ("code,name_zh,name_en,level\n990102,一区,One,district\n210211,甘井子区,Ganjingzi,district\n", 3, "code"),
    ("code,name_zh,name_en,level\n990102,一区,One,district\n990102,一区,One,district\n", 3, "code"),
    ("# a banner line\ncode,name_zh,name_en,level\n990102,一区,One,province\n", 3, "level"),
    ("code,name_zh,name_en,level\n990102,,One,district\n", 2, "name_zh"),
])
def test_a_bad_regions_file_names_the_row_and_creates_nothing(db, tmp_path, text, row, field):
    path = tmp_path / "bad_regions.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        cities.init_city(db, ROOT, TOY_PLAN, regions_file=path)
    assert (error.value.first.file, error.value.first.row, error.value.first.field) == ("bad_regions.csv", row, field)
    assert cities.list_cities(db, ROOT) == []


def test_a_city_scoped_admin_manages_only_its_citys_users(db):
    users.create_user(db, ROOT, username="unscoped", role="viewer")
    made = users.create_user(db, DALIAN_ADMIN, username="dl-viewer", role="viewer")
    assert made.user.as_dict()["username"] == "dl-viewer"
    listed = {u.username for u in users.list_users(db, DALIAN_ADMIN)}
    assert "dl-viewer" in listed and "unscoped" not in listed
    assert {"dl-viewer", "unscoped"} <= {u.username for u in users.list_users(db, ROOT)}
    for call in (lambda: users.get_user(db, DALIAN_ADMIN, "unscoped"),
                 lambda: users.update_user(db, DALIAN_ADMIN, "unscoped", {"display_name": "x"}),
                 lambda: users.set_disabled(db, DALIAN_ADMIN, "unscoped", True),
                 lambda: users.reset_password(db, DALIAN_ADMIN, "unscoped"),
                 lambda: users.issue_token(db, DALIAN_ADMIN, username="unscoped"),
                 lambda: users.create_admin(db, DALIAN_ADMIN, username="unscoped", reset=True)):
        with pytest.raises(users.NotFound):
            call()
    assert not users.get_user(db, ROOT, "unscoped").disabled
    with db.session() as session:
        from citycarbon.store import users as store

        assert store.get_user(session, "dl-viewer").city == "dalian"  # the creator's city
    for call in (lambda: users.list_users(db, TOY_ADMIN), lambda: users.get_user(db, TOY_ADMIN, "dl-viewer"),
                 lambda: users.create_user(db, TOY_ADMIN, username="toy2", role="viewer"),
                 lambda: users.list_tokens(db, TOY_ADMIN, everyone=True)):
        with pytest.raises(Forbidden):
            call()


def test_audit_pathways_and_monitoring_refuse_another_citys_user(db):
    with pytest.raises(Forbidden):
        audit.list_entries(db, TOY_ADMIN)
    assert audit.list_entries(db, DALIAN_ADMIN).total >= 0
    state = SimpleNamespace(pathways=object())
    with pytest.raises(Forbidden):
        service_for(state, "dalian", TOY_ANALYST)
    assert service_for(state, "dalian", DALIAN_ADMIN) is state.pathways
    monitoring = MonitoringService(db.settings, db)
    for call in (lambda p: monitoring.enterprises(p), lambda p: monitoring.visible_enterprises(p),
                 lambda p: monitoring.own_tokens(p),
                 lambda p: monitoring.submissions(p, enterprise_id=None, channel=None, status=None, offset=0,
                                                  limit=10),
                 lambda p: monitoring.readings(p, point_id=None, enterprise_id=None, start=None, end=None,
                                               offset=0, limit=10),
                 lambda p: monitoring.rollups(p, period="month", by="enterprise", enterprise_id=None, start=None,
                                              end=None)):
        for who in (TOY_ADMIN, TOY_ENTERPRISE):
            with pytest.raises(Forbidden):
                call(who)
    assert monitoring.enterprises(DALIAN_ADMIN) == []
    with pytest.raises(Forbidden):
        visible_units(City(code="dalian"), TOY_ENTERPRISE)
    assert visible_units(City(code="dalian"), DALIAN_ADMIN).empty


def test_statistics_and_recompute_refuse_another_citys_user():
    from citycarbon.services import jobs, statistics

    results = SimpleNamespace(city="dalian")  # refused before anything is read or queued
    for call in (lambda: statistics.list_rows(results, TOY_ANALYST, "statistics"),
                 lambda: statistics.value_history(results, TOY_ANALYST, "statistics", year=2020, region="210200"),
                 lambda: jobs.submit_recompute(SimpleNamespace(), results, TOY_ADMIN)):
        with pytest.raises(Forbidden):
            call()
