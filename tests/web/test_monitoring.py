"""Monitoring pages (/monitoring, /monitoring/enterprises/{id}, /monitoring/mine) over a tiny simulated city.

The city (6 units × 2 points × 3 days at 15 min, with the simulator's faults) is saved as the registry of the
app's store and ingested into its lake. Unit 1 belongs to the enterprise user of the fixtures, unit 2 lies in
district A, unit 3 in district B; names are distinct so that a leak shows as a name in the HTML.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from citycarbon.monitoring.ingest import ingest_frame
from citycarbon.monitoring.lake import Lake
from citycarbon.monitoring.registry import Registry, registry_dir
from citycarbon.monitoring.simulate import simulate
from citycarbon.store.monitoring_registry import save_registry
from tests.web.conftest import DISTRICT_A, DISTRICT_B, PEOPLE, start

OWN = next(p[3] for p in PEOPLE if p[0] == "enterprise-x")
NAMES = {"E00001": "自家测试企业甲", "E00002": "中山测试企业乙", "E00003": "西岗测试企业丙",
         "E00004": "金州测试企业丁", "E00005": "庄河测试企业戊", "E00006": "长海测试企业己"}
IDS = {"E00001": OWN}
REGIONS = {"E00001": "210211", "E00002": DISTRICT_A, "E00003": DISTRICT_B, "E00004": "210213",
           "E00005": "210283", "E00006": "210224"}


def _city_registry(city) -> Registry:
    enterprises = city.enterprises.copy()
    enterprises["name"] = enterprises["enterprise_id"].map(NAMES)
    enterprises["region"] = enterprises["enterprise_id"].map(REGIONS)
    enterprises["enterprise_id"] = enterprises["enterprise_id"].replace(IDS)
    points = city.points.copy()
    points["enterprise_id"] = points["enterprise_id"].replace(IDS)
    products = city.products.copy()
    if len(products):
        products["enterprise_id"] = products["enterprise_id"].replace(IDS)
    return Registry(enterprises, points, products, timezone=city.registry.timezone)


@pytest.fixture(scope="module")
def mon_env(fresh_web_env):
    """The app over a home holding the tiny city's registry and lake (its own module-scoped home)."""
    city = simulate(6, 2, 3, seed=11)
    registry = _city_registry(city)
    settings = fresh_web_env.settings
    save_registry(fresh_web_env.db, registry, "test")
    report = ingest_frame(Lake.open(settings.lake_dir), registry, city.readings, source="test")
    assert report.accepted > 0
    # one batch through an enterprise token's path (restricted to its enterprise), with a rejected row
    own_points = registry.points.loc[registry.points["enterprise_id"] == OWN, "point_id"]
    late = city.readings[city.readings["point_id"].isin(own_points)].tail(4).copy()
    late["value"] = late["value"].astype(float) * 1.01
    bad = late.head(1).assign(point_id="NOT-A-POINT")
    ingest_frame(Lake.open(settings.lake_dir), registry, pd.concat([late, bad], ignore_index=True), source="http:x",
                 enterprise_id=OWN, batch_id="gateway-42")
    fresh_web_env.city = city
    return fresh_web_env


def _html(env, path, user="admin", lang="zh_CN"):
    response = env.get(f"{path}{'&' if '?' in path else '?'}lang={lang}", user=user)
    return response


def test_overview_renders_in_chinese_and_english_for_admin(mon_env):
    zh = _html(mon_env, "/monitoring")
    assert zh.status_code == 200, zh.text[:500]
    assert "重点用能单位" in zh.text and "数据完整率" in zh.text
    for name in NAMES.values():
        assert name in zh.text
    en = _html(mon_env, "/monitoring", lang="en")
    assert en.status_code == 200
    assert "Key energy-using units" in en.text and "Monthly energy and CO2" in en.text
    # no inline script: only JSON blocks and external files
    for tag in re.findall(r"<script[^>]*>", en.text):
        assert 'type="application/json"' in tag or "src=" in tag


def test_overview_indicators_budget_and_alerts_carry_numbers(mon_env):
    text = _html(mon_env, "/monitoring?by=industry", lang="en").text
    # the monthly charts are JSON blocks with one series per group
    for chart_id in ("monitoring-energy", "monitoring-co2"):
        block = re.search(rf'<script type="application/json" id="chart-{chart_id}">(.*?)</script>', text, re.S)
        assert block, chart_id
        spec = json.loads(block.group(1))
        assert spec["type"] == "stacked" and spec["categories"] and spec["series"]
        assert all(v >= 0 for s in spec["series"] for v in s["data"])
        assert sum(v for s in spec["series"] for v in s["data"]) > 0
    assert "%" in text  # completeness shown as a share
    assert "The numbers behind this alert" in text or "No monitoring alerts." in text


def test_district_user_sees_only_its_regions_units(mon_env):
    response = _html(mon_env, "/monitoring", user="district-a")
    assert response.status_code == 200
    assert NAMES["E00002"] in response.text
    for key, name in NAMES.items():
        if key != "E00002":
            assert name not in response.text, name
    assert _html(mon_env, "/monitoring/enterprises/E00002", user="district-a").status_code == 200
    hidden = _html(mon_env, "/monitoring/enterprises/E00003", user="district-a")
    assert hidden.status_code == 404 and NAMES["E00003"] not in hidden.text
    # the same answer as for a unit that does not exist
    assert _html(mon_env, "/monitoring/enterprises/NOPE", user="district-a").status_code == 404


def test_enterprise_user_sees_only_its_own(mon_env):
    redirect = _html(mon_env, "/monitoring", user="enterprise-x")
    assert redirect.status_code == 303 and redirect.headers["location"] == "/monitoring/mine"
    mine = _html(mon_env, "/monitoring/mine", user="enterprise-x")
    assert mine.status_code == 200
    assert NAMES["E00001"] in mine.text
    for key, name in NAMES.items():
        if key != "E00001":
            assert name not in mine.text, name
    # its submissions: the token batch with its counts, and where the tokens come from
    assert "gateway-42" in mine.text and "本单位数据上传令牌" in mine.text
    row = re.search(r"<tr[^>]*><td>gateway-42</td>(.*?)</tr>", mine.text, re.S)
    assert row and [int(n) for n in re.findall(r'class="num">(\d+)<', row.group(1))] == [5, 0, 0, 4, 1]
    other = _html(mon_env, "/monitoring/enterprises/E00002", user="enterprise-x")
    assert other.status_code == 404 and NAMES["E00002"] not in other.text
    assert _html(mon_env, f"/monitoring/enterprises/{OWN}", user="enterprise-x").status_code == 200


def test_viewer_may_not_open_monitoring(mon_env):
    assert _html(mon_env, "/monitoring", user="viewer").status_code == 403
    assert _html(mon_env, "/monitoring", user=None).status_code == 303  # to the login page


def test_unit_page_has_a_reading_chart_per_point(mon_env):
    registry_points = mon_env.city.points
    points = registry_points.loc[registry_points["enterprise_id"] == "E00004", "point_id"].tolist()
    text = _html(mon_env, "/monitoring/enterprises/E00004", user="analyst").text
    assert NAMES["E00004"] in text
    for point in points:
        block = re.search(rf'<script type="application/json" id="chart-point-{point}">(.*?)</script>', text, re.S)
        assert block, point
        spec = json.loads(block.group(1))
        assert spec["type"] == "line" and spec["series"][0]["name"] == point
        # 3 days of 15-minute intervals at most, values in the canonical unit
        assert 0 < len(spec["categories"]) <= 3 * 96 and len(spec["series"][0]["data"]) == len(spec["categories"])
        assert spec["unit"] in ("kWh", "m³", "t", "GJ", "kg")


def test_pages_are_cached_per_lake_state_and_refresh_after_an_ingest(mon_env, monkeypatch):
    service = mon_env.client.app.state.monitoring  # the caches live on the app, not in module globals
    _html(mon_env, "/monitoring")  # warm
    computed, built = [], []
    compute, view = service._compute, service.view
    monkeypatch.setattr(service, "_compute", lambda: computed.append(1) or compute())
    monkeypatch.setattr(service, "view", lambda key, build: view(key, lambda: built.append(key) or build()))
    for _ in range(3):  # warm pages neither recompute the city nor rebuild the view (the benchmark times them)
        assert _html(mon_env, "/monitoring").status_code == 200
    assert computed == [] and built == []
    monkeypatch.undo()
    before = service.data_state()
    cached = service.city()
    registry = _city_registry(mon_env.city)
    # every unit reports a day later (one unit alone does not move the city's now: test_..._2030_...)
    extra = mon_env.city.readings.groupby("point_id").tail(1).copy()
    extra["value"] = extra["value"].astype(float) * 1.5
    extra["start"] = pd.to_datetime(extra["start"], utc=True) + pd.Timedelta(days=1)
    extra["end"] = pd.to_datetime(extra["end"], utc=True) + pd.Timedelta(days=1)
    ingest_frame(Lake.open(mon_env.settings.lake_dir), registry, extra, source="test-2")
    assert service.data_state() != before
    # within the refresh interval a lake that keeps changing is not recomputed
    assert service.city() is cached
    monkeypatch.setattr(service, "min_refresh_seconds", 0.0)
    # after the interval the next request still gets the previous state and starts a refresh in the background
    assert service.city() is cached
    service.wait_for_refresh(60)
    fresh = service.city()
    assert fresh is not cached and fresh.as_of > cached.as_of
    assert fresh.day > cached.day
    assert fresh.day in _html(mon_env, "/monitoring").text


def test_empty_states_without_registry_and_without_readings(mon_env, tmp_path_factory):
    """A store that holds no registry yet (another app over its own store), then one with a registry but no lake;
    the registry written as CSV files under the home is not what the pages read."""
    env = start(tmp_path_factory.mktemp("web-home-empty"), tmp_path_factory)
    bare = next(env)
    try:
        _city_registry(mon_env.city).write(registry_dir(bare.settings.home))  # files are not the registry
        no_registry = _html(bare, "/monitoring")
        assert no_registry.status_code == 200
        assert "尚未导入重点用能单位名录" in no_registry.text
        assert "citycarbon monitoring registry import" in no_registry.text
        assert "/api/v1/monitoring/readings" in no_registry.text
        save_registry(bare.db, _city_registry(mon_env.city), "test")
        no_lake = _html(bare, "/monitoring", lang="en")
        assert no_lake.status_code == 200
        assert "No meter readings yet" in no_lake.text and "citycarbon monitoring simulate" in no_lake.text
        assert NAMES["E00003"] in no_lake.text  # the registry's units are listed, without figures
        mine = _html(bare, "/monitoring/mine", user="enterprise-x")
        assert mine.status_code == 200 and "No submissions" not in mine.text  # zh_CN default
        assert "尚未使用数据上传令牌上传数据" in mine.text
    finally:
        env.close()


def test_a_registry_import_shows_at_once(mon_env):
    """The pages read the store's registry by version: a new import is shown on the next request (no wait for
    the lake's refresh interval), and the previous one again after it is restored."""
    registry = _city_registry(mon_env.city)
    renamed = registry.enterprises.copy()
    renamed.loc[renamed["enterprise_id"] == "E00003", "name"] = "西岗改名企业"
    save_registry(mon_env.db, Registry(renamed, registry.points, registry.products), "test")
    try:
        text = _html(mon_env, "/monitoring").text
        assert "西岗改名企业" in text and NAMES["E00003"] not in text
    finally:
        save_registry(mon_env.db, registry, "test")
    assert NAMES["E00003"] in _html(mon_env, "/monitoring").text



def test_a_broken_lake_gives_the_designed_error_page(mon_env, monkeypatch):
    def broken():
        raise OSError("disk gone")

    monkeypatch.setattr(mon_env.client.app.state.monitoring, "city", broken)
    response = _html(mon_env, "/monitoring", lang="en")
    assert response.status_code == 500 and "could not be computed" in response.text
    assert "disk gone" not in response.text


def test_mine_lists_the_enterprise_users_own_tokens_never_the_secret(mon_env):
    from citycarbon.store import users

    with mon_env.db.session() as session:
        user = users.require_user(session, "enterprise-x")
        secret = users.issue_token(session, user, "write", "meter gateway", actor="test")
        prefix = users.list_tokens(session, user)[-1].prefix
    text = _html(mon_env, "/monitoring/mine", user="enterprise-x", lang="en").text
    assert "meter gateway" in text and secret not in text
    assert f"<code>{prefix}</code>" in text and prefix in secret
    # another user's page does not show it
    assert "meter gateway" not in _html(mon_env, "/monitoring", user="admin", lang="en").text


def test_an_area_without_units_gives_empty_tables_and_charts(mon_env):
    from citycarbon.web.i18n import Formatter
    from citycarbon.web.routes import monitoring as pages

    city = mon_env.client.app.state.monitoring.city()
    for by in ("district", "industry"):
        view = pages.overview_view(city, city.units.iloc[:0], Formatter("en"), by)
        assert view["units"] == [] and view["alerts"] == [] and view["kpis"]["units"] == 0
        assert view["charts"]["energy"]["series"] == [] and view["charts"]["co2"]["categories"] == []


def test_one_enterprise_dated_2030_does_not_move_the_city_now(mon_env, tmp_path_factory):
    """Issue 12: a reading dated 2030-01-01 in the lake (written before ingest refused readings from the future)
    made the city's "now" 2030-01-01 and every unit 0.0 % complete. The city's now is robust: a quantile of the
    units' latest reading ends, capped at the server's clock."""
    env = start(tmp_path_factory.mktemp("web-home-future"), tmp_path_factory)
    bare = next(env)
    try:
        registry = _city_registry(mon_env.city)
        save_registry(bare.db, registry, "test")
        lake = Lake.open(bare.settings.lake_dir)
        ingest_frame(lake, registry, mon_env.city.readings, source="test")
        own = registry.points.loc[registry.points["enterprise_id"] == OWN, "point_id"].iloc[0]
        future = pd.DataFrame([{"point_id": own, "start": "2029-12-31T23:45:00+08:00",
                                "end": "2030-01-01T00:00:00+08:00", "value": 1.0, "unit": "kWh"}])
        assert ingest_frame(lake, registry, future, source="old", now=pd.Timestamp("2030-01-02T00:00Z")).accepted
        text = _html(bare, "/monitoring", lang="en").text
        last_day = (pd.to_datetime(mon_env.city.readings["end"], utc=True).max() - pd.Timedelta(seconds=1)
                    ).tz_convert("Asia/Shanghai").strftime("%Y-%m-%d")
        assert "2030-01-01" not in text and "2029-12-31" not in text
        assert last_day in text
        completeness = [float(v) for v in re.findall(r"([\d.]+)%", text)]
        assert completeness and max(completeness) > 50
    finally:
        env.close()
