"""``/api/v1/energy-projects``: register, read, edit with versions (409 when stale), stage moves, the 8 GW card
(not captured by ``/{code}``), the import with preview and the template; a district edits its own projects only."""

from __future__ import annotations

import io

from openpyxl import load_workbook

API = "/api/v1/energy-projects"
BODY = {"name": "西岗区屋顶光伏", "technology": "solar_distributed", "region_code": "210203", "capacity_mw": 12.5}


def _post(env, path, user="admin", **kwargs):
    return env.client.post(path, headers=env.headers(user), **kwargs)


def test_register_read_edit_stage_and_the_card(api_env):
    before = api_env.get(f"{API}/wind-solar", user="viewer", scope="read").json()["data"]
    made = _post(api_env, API, user="district-b", json={**BODY, "stage": "grid_connected",
                                                         "grid_connected_on": "2026-03-01"})
    assert made.status_code == 201, made.text
    code = made.json()["data"]["code"]
    assert _post(api_env, API, user="district-a", json=BODY).status_code == 422  # another district's region
    card = api_env.get(f"{API}/wind-solar", user="viewer", scope="read").json()["data"]
    assert card["grid_connected_mw"] == before["grid_connected_mw"] + 12.5
    assert api_env.get(f"{API}/{code}", user="district-a", scope="read").json()["data"]["history"][0]["version"] == 1
    assert api_env.get(API, user="enterprise-x", scope="read").status_code == 403
    patch = api_env.client.patch(f"{API}/{code}", headers=api_env.headers("district-a"),
                                 json={"capacity_mw": 13, "version": 1})
    assert patch.status_code == 404  # another district's project
    ok = api_env.client.patch(f"{API}/{code}", headers=api_env.headers("admin"),
                              json={"capacity_mw": 13, "version": 1, "reason": "复核"})
    assert ok.status_code == 200 and ok.json()["data"]["version"] == 2
    stale = api_env.client.patch(f"{API}/{code}", headers=api_env.headers("admin"),
                                 json={"capacity_mw": 14, "version": 1})
    assert stale.status_code == 409
    back = _post(api_env, f"{API}/{code}/stage", json={"stage": "construction", "on": "2025-10-01", "version": 2})
    assert back.status_code == 422  # going back needs the office's correction with a reason
    fixed = _post(api_env, f"{API}/{code}/stage", json={"stage": "construction", "on": "2025-10-01", "version": 2,
                                                        "correction": True, "reason": "尚未并网"})
    assert fixed.status_code == 200 and fixed.json()["data"]["grid_connected_on"] is None
    listed = api_env.get(f"{API}?stage=construction&district=210203").json()["data"]
    assert [p["code"] for p in listed] == [code]


def test_import_preview_apply_and_template(api_env):
    template = api_env.get(f"{API}/template")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    assert "能源项目" in book.sheetnames
    csv = "name,technology,region_code,capacity_mw,stage,approved_on\n中山区储能,storage_electrochemical,210202,20," \
          "approved,2026-02-01\n"
    preview = _post(api_env, f"{API}/import", user="district-a", files={"file": ("e.csv", csv.encode(), "text/csv")})
    assert preview.status_code == 200 and preview.json()["data"]["applied"] is False
    applied = _post(api_env, f"{API}/import", user="district-a", files={"file": ("e.csv", csv.encode(), "text/csv")},
                    data={"apply": "true"})
    assert applied.status_code == 201 and applied.json()["data"]["counts"]["create"] == 1
    bad = _post(api_env, f"{API}/import", files={"file": ("e.csv", b"name,technology,region_code,capacity_mw\n"
                                                                  b"x,wind,210202,1\n", "text/csv")},
                data={"apply": "true"})
    assert bad.status_code == 422 and "technology" in bad.text
