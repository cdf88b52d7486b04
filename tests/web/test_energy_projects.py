"""The energy-project pages and the cockpit's wind + solar card: the registry's grid-connected projects after
the statistics raise the card by their MW exactly; the pages show the 8 GW bar, the pipeline chart, the forms
for the office and districts, import with preview, and 404 for another district's project."""

from __future__ import annotations

import io
import json
import re
from datetime import date

from openpyxl import load_workbook

from citycarbon.data import data_path, read_csv_file
from citycarbon.services.tracking import WIND_SOLAR_PREFIXES

WIND_SOLAR_CARD = "wind_solar_capacity_2030"


def _latest_stats() -> tuple[int, float]:
    frame = read_csv_file(data_path("dalian/capacity.csv"))
    rows = frame[frame["technology"].astype(str).str.startswith(WIND_SOLAR_PREFIXES)]
    by_year = rows.groupby("year")["capacity"].sum()
    return int(by_year.index.max()), float(by_year.iloc[-1])


def _card_actual(html: str) -> tuple[str, str]:
    card = re.search(rf'id="target-{WIND_SOLAR_CARD}">(.*?)</article>', html, re.S)
    assert card, "no wind + solar card"
    found = re.search(r"<dt>[^<(]*(?:\((\d{4})\))?</dt><dd>([^<]*)</dd>", card.group(1))
    assert found
    return found.group(1), found.group(2)


def _number(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text.split("MW")[0].split("万")[0]))


def test_cockpit_card_counts_the_registry_grid_connected_projects(fresh_web_env):
    env = fresh_web_env
    year, stats = _latest_stats()
    before_year, before = _card_actual(env.get("/?lang=en").text)
    assert int(before_year) == year
    assert _number(before) == round(stats)
    added = env.post("/energy-projects", data={"name": "庄河海上风电示例", "technology": "wind_offshore",
                                               "region_code": "210283", "capacity_mw": "300",
                                               "stage": "grid_connected", "stage_on": f"{date.today().year}-01-02"})
    assert added.status_code == 200, added.text[:400]
    # a project connected inside the statistics year is not added again
    env.post("/energy-projects", data={"name": "统计期内项目", "technology": "solar_utility", "region_code": "210283",
                                       "capacity_mw": "77", "stage": "grid_connected", "stage_on": f"{year}-05-01"})
    after_year, after = _card_actual(env.get("/?lang=en").text)
    assert int(after_year) == date.today().year
    assert _number(after) == round(stats + 300)
    api = env.get("/api/v1/status").json()["data"]
    row = next(t for t in api["targets"] if t["id"] == WIND_SOLAR_CARD)
    assert row["actual"] == stats + 300 and row["actual_year"] == date.today().year
    page = env.get("/energy-projects?lang=zh_CN")
    assert page.status_code == 200 and "序时进度" in page.text and "能源项目库" in page.text
    shown = re.search(r'id="wind-solar-mw">([^<]*)<', page.text).group(1)
    assert float(shown.replace(",", "")) == round(stats + 300, 1)
    chart = json.loads(re.search(r'id="chart-energy-pipeline">(.*?)</script>', page.text, re.S).group(1))
    assert chart["type"] == "stacked" and len(chart["series"]) == 3


def test_pathways_page_shows_the_registry_series(fresh_web_env):
    page = fresh_web_env.get("/pathways?lang=en")
    assert page.status_code == 200
    chart = json.loads(re.search(r'id="chart-pw-registry">(.*?)</script>', page.text, re.S).group(1))
    names = [s["name"] for s in chart["series"]]
    assert len(names) == 3  # the scenario's path, grid-connected (statistics + registry), with the pipeline
    year, stats = _latest_stats()
    grid = chart["series"][1]["data"][chart["categories"].index(str(year))]
    assert grid == round(stats, 1)


def test_detail_stage_form_and_scope(fresh_web_env):
    env = fresh_web_env
    env.post("/energy-projects", user="district-a", data={"name": "中山区屋顶光伏", "technology": "solar_distributed",
                                                          "region_code": "210202", "capacity_mw": "5"})
    code = re.search(r'href="/energy-projects/(NY-\d{4}-\d{4})">[^<]*</a></td><td><span lang="zh-CN">中山区屋顶光伏',
                     env.get("/energy-projects?lang=zh_CN").text).group(1)
    detail = env.get(f"/energy-projects/{code}?lang=zh_CN", user="district-a")
    assert detail.status_code == 200 and "变更项目阶段" in detail.text
    assert "变更项目阶段" not in env.get(f"/energy-projects/{code}?lang=zh_CN", user="district-b").text
    moved = env.post(f"/energy-projects/{code}/stage", user="district-a",
                     data={"stage": "approved", "on": "2026-01-05", "version": "1"})
    assert moved.status_code == 200 and 'id="ep-stage">核准/备案' in moved.text
    refused = env.post(f"/energy-projects/{code}/stage", user="district-b",
                       data={"stage": "construction", "on": "2026-02-05", "version": "2"})
    assert refused.status_code == 404
    bad = env.post(f"/energy-projects/{code}/stage?lang=zh_CN", user="district-a",
                   data={"stage": "planned", "version": "2"})
    assert bad.status_code == 422 and "未保存任何内容" in bad.text
    assert env.get("/energy-projects", user="enterprise-x").status_code == 403
    assert 'method="post" action="/energy-projects"' not in env.get("/energy-projects", user="viewer").text
    assert 'method="post" action="/energy-projects"' in env.get("/energy-projects", user="district-b").text


def test_import_preview_then_apply_and_bad_rows_named(fresh_web_env):
    env = fresh_web_env
    template = env.get("/api/v1/energy-projects/template")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    sheet = book["能源项目"]
    header = [c.value for c in sheet[1]]
    row = dict.fromkeys(header, None)
    row.update({"name": "瓦房店陆上风电导入", "technology": "wind_onshore", "region_code": "210281",
                "capacity_mw": 120})
    sheet.append([row[h] for h in header])
    buffer = io.BytesIO()
    book.save(buffer)
    preview = env.as_user("admin").post("/energy-projects/import?lang=zh_CN",
                                        data={"csrf_token": env.csrf("admin")},
                                        files={"file": ("p.xlsx", buffer.getvalue())})
    assert preview.status_code == 200 and "预览，尚未保存" in preview.text
    content_b64 = re.search(r'name="content_b64" value="([^"]+)"', preview.text).group(1)
    applied = env.post("/energy-projects/import?lang=zh_CN",
                       data={"content_b64": content_b64, "filename": "p.xlsx", "apply": "1"})
    assert applied.status_code == 200 and "已导入" in applied.text and "瓦房店陆上风电导入" in applied.text
    sheet.append(["", "坏行", "wind_sideways", "", "210281", "x"])
    buffer = io.BytesIO()
    book.save(buffer)
    bad = env.as_user("admin").post("/energy-projects/import?lang=zh_CN", data={"csrf_token": env.csrf("admin")},
                                    files={"file": ("p.xlsx", buffer.getvalue())})
    assert bad.status_code == 422 and "p.xlsx [能源项目]" in bad.text and "未知技术类型" in bad.text


# issue 17 (webunc): the pathways page puts the registry's pipeline by technology beside the scenario's paths
def test_pathways_page_lists_the_registry_pipeline_by_technology(fresh_web_env):
    env = fresh_web_env
    year = date.today().year
    added = env.post("/energy-projects", data={"name": "长兴岛海上风电储备示例", "technology": "wind_offshore",
                                               "region_code": "210283", "capacity_mw": "250", "stage": "planned",
                                               "planned_on": f"{year + 2}-06-30"})
    assert added.status_code == 200, added.text[:400]
    page = env.get("/pathways/results?scenario=Plan&lang=en", headers={"HX-Request": "true"})
    assert page.status_code == 200 and 'class="errors"' not in page.text
    assert f"Pipeline, expected {year + 2}" in page.text
    row = re.search(r'<tr data-registry-tech="wind_offshore"[^>]*>(.*?)</tr>', page.text, re.S)
    assert row and ">250<" in row.group(1).replace(",", "")
    assert "data-registry-tech" in env.get("/pathways/results?scenario=Plan", user="viewer").text
