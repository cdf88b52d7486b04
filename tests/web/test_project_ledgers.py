"""The ledger pages: both ledgers with the remaining balance of every source, the office's add-source form and
import, a project's allocation page (needs vs holdings) and the refusals shown in Chinese with the numbers."""

from __future__ import annotations

import re

import pytest

from tests.projects.support import chemical_project, insert_project

SOURCE = {"code": "WEB-E1", "kind": "energy", "amount": "4000", "unit": "tce", "origin": "closure",
          "document": "大工信发〔2026〕7号", "region_code": "210202", "plant": "某钢厂"}


@pytest.fixture(scope="module")
def project(fresh_web_env):
    return insert_project(fresh_web_env.db, chemical_project(id="XM-2026-0801"))


def test_the_office_adds_allocates_is_refused_and_releases(fresh_web_env, project):
    env = fresh_web_env
    added = env.post("/projects/ledgers/sources", data=SOURCE)
    assert added.status_code == 303 and added.headers["location"].startswith("/projects/ledgers")
    page = env.get("/projects/ledgers?lang=zh_CN")
    assert page.status_code == 200 and "WEB-E1" in page.text and "剩余" in page.text
    assert "新增替代来源" in page.text  # the office's form
    bad = env.post("/projects/ledgers/sources?lang=zh_CN", data={**SOURCE, "code": "WEB-E2", "unit": "t/a"})
    assert bad.status_code == 422 and "不是能量单位" in bad.text

    needs = env.get(f"/projects/{project}/allocations?lang=zh_CN")
    assert needs.status_code == 200 and "未落实" in needs.text and "WEB-E1" in needs.text
    made = env.post(f"/projects/{project}/allocations?lang=zh_CN",
                    data={"source": "WEB-E1", "amount": "3000", "unit": "tce"})
    assert made.status_code == 200 and "该来源剩余：1000" in made.text
    over = env.post(f"/projects/{project}/allocations?lang=zh_CN",
                    data={"source": "WEB-E1", "amount": "1500", "unit": "tce"})
    assert over.status_code == 409
    assert "台账拒绝了该操作" in over.text and "余额 1000 tce" in over.text and "1500" in over.text
    english = env.post(f"/projects/{project}/allocations?lang=en",
                       data={"source": "WEB-E1", "amount": "1500", "unit": "tce"})
    assert english.status_code == 409 and "has 1000 tce left" in english.text

    ledger = env.get("/projects/ledgers?lang=zh_CN").text
    row = re.search(r'id="source-WEB-E1".*?</tr>', ledger, re.S).group(0)
    assert "<strong>1000</strong>" in row
    allocation = re.search(r'/projects/allocations/(\d+)/release', ledger).group(1)
    released = env.post(f"/projects/allocations/{allocation}/release", data={"reason": "撤回", "back": project})
    assert released.status_code == 303 and released.headers["location"] == f"/projects/{project}/allocations"
    row = re.search(r'id="source-WEB-E1".*?</tr>', env.get("/projects/ledgers").text, re.S).group(0)
    assert "<strong>4000</strong>" in row


def test_others_read_but_may_not_write(fresh_web_env, project):
    env = fresh_web_env
    env.post("/projects/ledgers/sources", data={**SOURCE, "code": "WEB-A2"})
    env.post("/projects/ledgers/sources", data={**SOURCE, "code": "WEB-B1", "region_code": "210203"})
    for user in ("analyst", "district-a", "viewer"):
        env.new_session(user)
        page = env.get("/projects/ledgers?lang=zh_CN", user=user)
        assert page.status_code == 200 and "新增替代来源" not in page.text
        refused = env.post("/projects/ledgers/sources", user=user, data={**SOURCE, "code": f"X-{user}"})
        assert refused.status_code == 403
    district = env.get("/projects/ledgers", user="district-a").text
    assert "WEB-A2" in district and "WEB-B1" not in district
    assert env.get("/projects/ledgers", user="viewer").text.count('id="source-') == 0
    assert env.get(f"/projects/{project}/allocations", user="district-a").status_code == 404


def test_import_shows_rows_in_chinese(fresh_web_env):
    env = fresh_web_env
    header = "code,kind,amount,unit,origin,document,region_code\n"
    content = (header + "WEB-I1,energy,abc,tce,saving,确认,210202\n").encode()
    answer = env.post("/projects/ledgers/import?lang=zh_CN", data={"apply": "1"},
                      files={"file": ("l.csv", content, "text/csv")})
    assert answer.status_code == 422 and "第 2 行" in answer.text and "不是数值" in answer.text
    good = (header + "WEB-I1,energy,10,tce,saving,确认,210202\n").encode()
    done = env.post("/projects/ledgers/import?lang=zh_CN", data={"apply": "1"},
                    files={"file": ("l.csv", good, "text/csv")})
    assert done.status_code == 200 and "已导入 1 个替代来源" in done.text
