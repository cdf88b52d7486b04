"""``/api/v1/governance/plans`` ("1+N", issue 14 item 3) on SQLite and PostgreSQL: the office registers a
district plan (raw YAML body) and an energy-sector plan (multipart upload), everyone of the city reads them and the
consistency check with its numbers; other roles cannot write; withdraw by DELETE or POST."""

from __future__ import annotations

from pathlib import Path

API = "/api/v1/governance/plans"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "subplans"


def _text(name: str) -> str:
    return (FIXTURES / f"{name}.yaml").read_text(encoding="utf-8")


def test_register_read_check_withdraw(backend_env):
    env = backend_env
    raw = env.client.post(API, content=_text("zhuanghe").encode(), headers={
        **env.headers("admin"), "Content-Type": "application/yaml"})
    assert raw.status_code == 201, raw.text
    assert raw.json()["data"]["code"] == "zhuanghe_2030" and raw.json()["data"]["version"] == 1
    upload = env.client.post(API, files={"file": ("energy.yaml", _text("energy").encode(), "application/yaml")},
                             params={"reason": "能源领域方案印发"}, headers=env.headers("admin"))
    assert upload.status_code == 201, upload.text

    listed = env.get(API, user="district-a", scope="read").json()["data"]
    assert [p["code"] for p in listed] == ["energy_sector_2030", "zhuanghe_2030"]
    one = env.get(f"{API}/zhuanghe_2030", user="analyst").json()["data"]
    assert one["org_name_zh"] == "庄河市人民政府" and "zhuanghe_2030" in one["document"]

    check = env.get(f"{API}/check", user="viewer", scope="read")
    assert check.status_code == 200, check.text
    findings = check.json()["data"]["findings"]
    short = next(f for f in findings if f["code"] == "allocation_short")
    assert (short["unit"], short["target"], short["total"], short["gap"]) == ("MW", 8000.0, 3500.0, -4500.0)
    assert short["parts"][0]["value"] == 3.5 and short["parts"][0]["unit"] == "GW"
    assert any(f["code"] == "deadline_later" for f in findings)

    gone = env.client.delete(f"{API}/zhuanghe_2030", headers=env.headers("admin"))
    assert gone.status_code == 200 and gone.json()["data"]["valid_to"]
    assert env.get(f"{API}/zhuanghe_2030").status_code == 404
    post = env.client.post(f"{API}/energy_sector_2030/withdraw", headers=env.headers("admin"))
    assert post.status_code == 200
    assert env.get(API).json()["data"] == []
    history = env.get(f"{API}/zhuanghe_2030/history").json()["data"]
    assert [h["version"] for h in history] == [1]


def test_bad_files_and_roles_are_refused(backend_env):
    env = backend_env
    bad = _text("zhuanghe").replace("org: d210283", "org: d210299")
    answer = env.client.post(API, content=bad.encode(), headers={**env.headers("admin"),
                                                                 "Content-Type": "text/yaml"})
    assert answer.status_code == 422
    problem = answer.json()["error"]["problems"][0]
    assert problem["field"] == "meta.org" and problem["row"] == 8  # the fixture's line of meta.org
    empty = env.client.post(API, content=b"", headers=env.headers("admin"))
    assert empty.status_code == 422
    for user, scope in (("analyst", "write"), ("admin", "read"), ("district-a", "write")):
        refused = env.client.post(API, content=_text("zhuanghe").encode(), headers=env.headers(user, scope))
        assert refused.status_code == 403, (user, scope, refused.text)
        assert env.client.delete(f"{API}/zhuanghe_2030", headers=env.headers(user, scope)).status_code == 403
    assert env.get(API).json()["data"] == []
    assert env.get(f"{API}/nothing").status_code == 404
