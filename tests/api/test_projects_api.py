"""``/api/v1/projects``: create → show/check on the issue's example, scope (district, enterprise, viewer), stale
version 409, the template and the import (preview, apply, bad file)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from citycarbon.services.projects.evaluate import evaluate
from tests.projects.support import chemical_project, uscc

API = "/api/v1/projects"
DISTRICT_A = "210202"  # 中山区, the district of user district-a


def _body(**changes):
    p = chemical_project()
    out = {"name": p.name, "applicant_name": p.applicant_name, "applicant_uscc": p.applicant_uscc,
           "region_code": DISTRICT_A, "industry_code": p.industry_code, "kind": "new",
           "application_date": p.application_date.isoformat(),
           "products": [{"product": "ethylene", "capacity": 10_000, "unit": "t/a", "unit_consumption": 600,
                         "consumption_unit": "kgoe/t"}],
           "energy": {f: {"quantity": q.value, "unit": q.unit} for f, q in p.energy.items()},
           "feedstock": {f: {"quantity": q.value, "unit": q.unit} for f, q in p.feedstock.items()},
           "national_plan": p.national_plan}
    out.update(changes)
    return out


def test_create_show_check_edit(api_env):
    created = api_env.client.post(API, json=_body(), headers=api_env.headers("district-a"))
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    code = data["project"]["code"]
    expected = evaluate("dalian", chemical_project(id=code, region_code=DISTRICT_A))
    check = api_env.get(f"{API}/{code}/check", user="district-a", scope="read").json()
    assert check["data"]["energy"]["tce_calorific"] == expected.energy.tce_calorific
    assert check["data"]["energy"]["tce_equivalent"] == expected.energy.tce_equivalent
    assert check["data"]["verdict"] == expected.verdict.value
    assert check["data"]["provenance"]["energy"]["factors"]
    assert [f["code"] for f in check["data"]["findings"]] == [f.code for f in expected.findings]
    shown = api_env.get(f"{API}/{code}", user="district-a", scope="read").json()["data"]
    assert shown["project"]["summary"]["tce_calorific"] == expected.energy.tce_calorific
    # another district, an enterprise and a viewer do not see it
    assert api_env.get(f"{API}/{code}", user="district-b", scope="read").status_code == 404
    assert api_env.get(f"{API}/{code}", user="enterprise-x", scope="read").status_code == 404
    assert api_env.get(API, user="viewer", scope="read").json()["data"] == []
    listed = [p["code"] for p in api_env.get(API, user="district-a", scope="read").json()["data"]]
    assert code in listed
    # a stale version is 409; the right one edits
    edit = api_env.client.patch(f"{API}/{code}", json={"version": 1, "name": "改名"},
                                headers=api_env.headers("district-a"))
    assert edit.status_code == 200 and edit.json()["data"]["project"]["version"] == 2
    stale = api_env.client.patch(f"{API}/{code}", json={"version": 1, "name": "又改"},
                                 headers=api_env.headers("district-a"))
    assert stale.status_code == 409


def test_refusals(api_env):
    # a district files only in its districts; an enterprise only for its own registry code (422)
    other = api_env.client.post(API, json=_body(region_code="210203"), headers=api_env.headers("district-a"))
    assert other.status_code == 422
    ent = api_env.client.post(API, json=_body(applicant_uscc=uscc("91210281123456788")),
                              headers=api_env.headers("enterprise-x"))
    assert ent.status_code == 422
    assert api_env.client.post(API, json=_body(), headers=api_env.headers("viewer", "read")).status_code == 403
    assert api_env.client.post(API, json=_body(bogus=1), headers=api_env.headers("admin")).status_code == 422


def test_template_and_import(api_env):
    template = api_env.get(f"{API}/template", user="district-a", scope="read")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    assert {"说明", "项目", "能源消费"} <= set(book.sheetnames)
    # the template's example is in 瓦房店: the admin previews and applies it
    files = {"file": ("projects.xlsx", template.content, "application/octet-stream")}
    preview = api_env.client.post(f"{API}/import", files=files, headers=api_env.headers("admin"))
    assert preview.status_code == 200 and preview.json()["data"]["applied"] is False
    assert preview.json()["data"]["rows"][0]["code"] is None
    bad = api_env.client.post(f"{API}/import", files=files, data={"apply": "true"},
                              headers=api_env.headers("district-a"))  # 瓦房店 is not district-a's
    assert bad.status_code == 422
    assert "项目" in bad.text and "建设地点行政区划代码" in bad.text
    applied = api_env.client.post(f"{API}/import", files=files, data={"apply": "true"},
                                  headers=api_env.headers("admin"))
    assert applied.status_code == 201
    code = applied.json()["data"]["rows"][0]["code"]
    assert api_env.get(f"{API}/{code}").status_code == 200
