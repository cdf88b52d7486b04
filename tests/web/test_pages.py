"""Every cockpit page renders for the admin in both languages; roles see only what they may (no other
district's name in the HTML); charts carry their data as JSON for charts.js."""

from __future__ import annotations

import json
import re

import pytest

from tests.web.conftest import DISTRICT_NAMES, HAS_IMPORTS

PAGES = ["/", "/targets", "/accounting", "/accounting?year=2020", "/districts", "/decomposition",
         "/decomposition?measure=energy", "/sinks", "/sinks?year=2020", "/admin/users", "/admin/audit"]
if HAS_IMPORTS:  # the store's import batches (citycarbon.store.imports)
    PAGES.append("/imports")
CHART_JSON = re.compile(r'<script type="application/json" id="chart-([\w-]+)">(.*?)</script>', re.S)


@pytest.mark.parametrize("path", PAGES)
def test_admin_sees_every_page_in_chinese_by_default(web_env, path):
    response = web_env.get(path)
    assert response.status_code == 200, response.text[:500]
    assert '<html lang="zh-CN">' in response.text
    assert "驾驶舱" in response.text  # the navigation, in Chinese
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", PAGES)
def test_admin_sees_every_page_in_english(web_env, path):
    response = web_env.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert ">Cockpit<" in response.text
    assert "cc_lang=en" in response.headers.get("set-cookie", "")


def test_language_cookie_keeps_english_for_later_pages(web_env):
    client = web_env.as_user("admin")
    client.cookies.set("cc_lang", "en")
    response = client.get("/targets", follow_redirects=False)
    assert '<html lang="en">' in response.text and "Plan targets" in response.text


def test_cockpit_shows_every_plan_target_with_its_warning_colour(web_env):
    from citycarbon.services.tracking import status_report

    html = web_env.get("/").text
    report = status_report(2024)
    for row in report["targets"]:
        card = re.search(rf'<article class="target-card ([\w-]+)" id="target-{row["id"]}">', html)
        assert card, row["id"]
        expected = {"red": "warn-red", "yellow": "warn-yellow", "green": "warn-green"}.get(row["colour"], "warn-none")
        assert card.group(1) == expected
    assert "本页数据中的估算值" in html  # estimate flags
    assert "万tce" in html and "万tCO₂" in html


def test_chart_data_is_embedded_as_json_with_the_accounted_values(web_env):
    from citycarbon.services.accounting import account_city

    html = web_env.get("/").text
    charts = {name: json.loads(body) for name, body in CHART_JSON.findall(html)}
    assert {"emissions", "energy", "non-fossil", "sinks", "sector-energy", "fuel-energy"} <= set(charts)
    energy = charts["energy"]
    assert energy["categories"][-1] == "2024"
    accounted = account_city(2024).indicators["energy_consumption_tce"] / 1e4
    assert energy["series"][0]["data"][-1] == pytest.approx(accounted, rel=1e-6)
    assert "<script>" not in html.replace('<script type="application/json"', "")  # no inline script


def test_accounting_page_lists_provenance_factor_rows_and_estimates(web_env):
    html = web_env.get("/accounting?year=2020").text
    assert "gbt2589.raw_coal" in html  # a factor row used
    assert "sha256:" in html  # input hashes
    assert "status-estimate" in html  # estimated factor rows are marked
    assert "能耗双控扣减" in html


def test_missing_year_shows_a_designed_empty_state(web_env):
    response = web_env.get("/accounting?year=1990")
    assert response.status_code == 404
    assert "该年度暂无数据" in response.text and "数据导入" in response.text
    english = web_env.get("/accounting?year=1990&lang=en")
    assert "No data for this year" in english.text
    assert web_env.get("/accounting?year=abc").status_code == 404


def test_anonymous_caller_is_sent_to_the_login_page(web_env):
    for path in ("/", "/accounting", "/admin/users", "/imports"):
        response = web_env.get(path, user=None)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_htmx_request_without_session_gets_hx_redirect(web_env):
    response = web_env.get("/", user=None, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/login")


def _nav(html: str) -> str:
    return html.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]


def test_viewer_sees_public_aggregates_only(web_env):
    for path in ("/", "/targets", "/accounting", "/decomposition", "/sinks"):
        html = web_env.get(path, user="viewer").text
        assert not [name for name in DISTRICT_NAMES if name in html], path
    nav = _nav(web_env.get("/", user="viewer").text)
    assert "/districts" not in nav and "/imports" not in nav and "/admin" not in nav
    for path in ("/districts", "/imports", "/admin/users", "/admin/audit"):
        assert web_env.get(path, user="viewer").status_code == 403, path


def test_enterprise_user_sees_no_district_and_no_administration(web_env):
    html = web_env.get("/", user="enterprise-x").text
    assert not [name for name in DISTRICT_NAMES if name in html]
    for path in ("/districts", "/imports", "/admin/users", "/admin/audit"):
        assert web_env.get(path, user="enterprise-x").status_code == 403, path


def test_district_user_sees_only_its_own_district(web_env):
    for path in ("/", "/districts"):
        html = web_env.get(path, user="district-a").text
        assert "中山区" in html, path
        others = [name for name in DISTRICT_NAMES if name in html and name != "中山区"]
        assert not others, (path, others)
    assert "西岗区" in web_env.get("/districts", user="district-b").text
    assert "中山区" not in web_env.get("/districts", user="district-b").text
    nav = _nav(web_env.get("/", user="district-a").text)
    assert "/districts" in nav and "/imports" in nav and "/admin" not in nav
    assert web_env.get("/admin/users", user="district-a").status_code == 403


def test_admin_sees_every_district(web_env):
    html = web_env.get("/districts").text
    assert all(name in html for name in DISTRICT_NAMES[:10])


def test_analyst_navigation_has_no_administration(web_env):
    nav = _nav(web_env.get("/", user="analyst").text)
    assert "/imports" in nav and "/districts" in nav and "/admin" not in nav


def test_a_failing_computation_shows_a_designed_error_page(web_env, monkeypatch):
    from citycarbon.web import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "sinks_view", broken)
    response = web_env.get("/sinks?year=2019")
    assert response.status_code == 500
    assert "数据暂时无法计算" in response.text and "boom" not in response.text
