"""The import template as a download (``GET /api/v1/import-template``): the registry's importable tables as
sheets of an .xlsx that, filled in, imports through ``POST /imports``."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from citycarbon.importers.tables import header_name
from citycarbon.tables import import_tables

API = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_template_download_holds_every_importable_table(api_env):
    response = api_env.get(f"{API}/import-template", user="viewer", scope="read")
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    assert 'filename="citycarbon-import-template.xlsx"' in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    sheets = [spec.sheet_zh for spec in import_tables().values()]
    assert set(sheets) <= set(workbook.sheetnames)
    for spec in import_tables().values():
        assert [header_name(c.value) for c in workbook[spec.sheet_zh][1]] == [*spec.required_on_import,
                                                                              *spec.optional_on_import]


def test_template_of_one_table_and_an_unknown_table(api_env):
    response = api_env.get(f"{API}/import-template", params={"table": "statistics"})
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).sheetnames == ["说明", "codelists", "统计数据", "来源"]
    assert api_env.get(f"{API}/import-template", params={"table": "capacty"}).status_code == 422
    capacity = api_env.get(f"{API}/import-template", params={"dataset": "capacity"})
    assert capacity.status_code == 200
    assert load_workbook(io.BytesIO(capacity.content)).sheetnames == ["说明", "codelists", "装机容量", "来源"]
    assert api_env.client.get(f"{API}/import-template").status_code == 401


def test_filled_template_uploads_as_an_import(fresh_env):
    workbook = load_workbook(io.BytesIO(fresh_env.get(f"{API}/import-template",
                                                      params={"table": "statistics"}).content))
    workbook["统计数据"].append([2022, "210200", "gdp", 8702.32, "10^8 CNY", 2020, "official", "template upload"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = fresh_env.client.post(f"{API}/imports", headers=fresh_env.headers("analyst"),
                                     files={"file": ("模板.xlsx", buffer.getvalue())},
                                     data={"kind": "statistics", "mode": "none"})
    assert response.status_code == 201, response.text
    batch = response.json()["data"]
    assert batch["status"] == "validated" and batch["row_count"] == 1, batch
    assert batch["preview"]["changed"] == 1, batch["preview"]
