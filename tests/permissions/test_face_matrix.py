"""The declared permission matrix walked through each face that offers the write: the API (HTTP status, bearer
tokens: ``:read`` callers hold a read token, the others a write token), the web cockpit (the form post with the
session's CSRF token; the admin pages are offered to administrators only) and the CLI (the operator: an
administrator, who still may not bind a user to an enterprise or region that does not exist). Every refused
call leaves the audit log and the object unchanged, as at the service level."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.permissions.cases import (
    CASES,
    MATRIX_PDF,
    OPEN_TARGET,
    ROUND_MEASURE,
    World,
    X,
    audit_rows,
    populate,
    statistics_row,
    write_registry,
)
from tests.permissions.matrix import ACTORS, MATRIX, WRITES, WRITES_BY_NAME

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient warns that httpx (pinned) should become httpx2
    from fastapi.testclient import TestClient

API = "/api/v1"
STATUS = {"ok": {200, 201, 202}, "rej": {200}, "403": {403}, "404": {404}, "422": {422}}


class _QuickResults:
    """The app's result cache with a recompute that does not compute the city (the job is not under test)."""

    def __init__(self, results):
        self._results = results

    def __getattr__(self, name):
        return getattr(self._results, name)

    def warm(self) -> int:
        return int(self._results.version())

    def accounting(self, version: int) -> dict:
        return {}


def _app_world(tmp_path_factory, name: str, *, web: bool):
    from citycarbon.api.app import create_app
    from tests.web.conftest import seeded_database

    settings, db = seeded_database(tmp_path_factory.mktemp(name), tmp_path_factory)
    write_registry(db)
    principals = populate(db)
    app = create_app(settings, prepare=False, web=web, warm=False)
    return settings, db, principals, app


# -- API -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from citycarbon.store import users

    settings, db, principals, app = _app_world(tmp_path_factory, "matrix-api", web=False)
    tokens = {}
    with db.session() as session:
        for actor in ACTORS:
            name, _, scope = actor.partition(":")
            scope = scope or ("read" if name == "viewer" else "write")
            tokens[actor] = users.issue_token(session, users.require_user(session, name), scope, "matrix", actor="test")
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            app.state.results = _QuickResults(app.state.results)
            yield client, World(db, settings, principals), tokens
    finally:
        db.dispose()


def _settle(client: TestClient, response, headers: dict) -> None:
    """Wait for the job an answer queued (its audit rows are written when it runs)."""
    try:
        job_id = (response.json().get("data") or {}).get("job_id")
    except ValueError:
        return
    for _ in range(200):
        if not job_id:
            return
        status = client.get(f"{API}/jobs/{job_id}", headers=headers).json()["data"]["status"]
        if status not in ("queued", "running"):
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def _fill(path: str, obj: dict) -> str:
    return path.format(**{"batch_id": obj.get("batch_id"), "username": obj.get("username", "district-a"),
                          "prefix": obj.get("prefix"), "target_id": obj.get("target_id"), "code": obj.get("code"),
                          "org_code": obj.get("code"), "measure_code": obj.get("code"),
                          "plan_code": obj.get("plan_code"), "item_id": obj.get("item_id"),
                          "round_code": obj.get("code"), "filing_id": obj.get("filing_id"),
                          "source": obj.get("source"), "allocation_id": obj.get("allocation_id"),
                          "project_code": obj.get("code"), "energy_code": obj.get("code"),
                          # issue 16 (runs): assessment runs
                          "run_id": obj.get("run_id"), "unit": obj.get("unit"),
                          "objection_id": obj.get("objection_id")})


API_CALLS: dict[str, Callable[[dict], dict]] = {
    "import.upload": lambda o: {"files": {"file": (f"{o['tag']}.csv", statistics_row(), "text/csv")}},
    "import.approve": lambda o: {"json": {}},
    "import.discard": lambda o: {"json": {}},
    "user.create": lambda o: {"json": {"username": f"new-{o['tag']}", "role": "enterprise", "enterprise_id": X}},
    "user.update": lambda o: {"json": {"display_name": "changed"}},
    "user.disable": lambda o: {"json": {"disabled": True}},
    "user.reset_password": lambda o: {},
    "user.unlock": lambda o: {"json": {"reason": "matrix"}},
    "user.reset_totp": lambda o: {"json": {"reason": "matrix"}},
    "token.issue_for": lambda o: {"json": {"scope": "read", "name": o["tag"]}},
    "token.issue_own": lambda o: {"json": {"scope": "write", "name": o["tag"]}},
    "token.revoke": lambda o: {},
    "readings.ingest": lambda o: {"json": o["body"]},
    "job.recompute": lambda o: {},
    "target.set": lambda o: {"json": {"value": o["value"], "unit": "1", "document": "辽政发〔2022〕12号"}},
    "target.allocate": lambda o: {"json": {"district": "210202", "value": o["value"], "unit": "1",
                                           "document": "辽政发〔2022〕12号"}},
    "city.create_upload": lambda o: {"json": {"code": o["code"], "plan": o["text"]}},
    "user.city": lambda o: {"json": {"city": "dalian"}},
    "gov.org_edit": lambda o: {"json": {"name_en": o["name_en"], "reason": "matrix"}},
    "gov.org_put": lambda o: {"json": {"name_zh": "大连市水务局", "kind": "department", "parent": "leading_group",
                                       "name_en": o["name_en"], "reason": "matrix"}},
    "gov.org_import": lambda o: {"files": {"file": ("orgs.csv", o["content"], "text/csv")},
                                 "data": {"apply": "true", "reason": "matrix"}},
    "gov.measure_edit": lambda o: {"json": {"text_en": o["text_en"], "reason": "matrix"}},
    "gov.matrix_import": lambda o: {"files": {"file": ("matrix.xlsx", o["content"], "application/octet-stream")},
                                    "data": {"apply": "true", "reason": "matrix"}},
    "plan.register": lambda o: {"files": {"file": (f"{o['code']}.yaml", o["text"].encode(), "application/yaml")}},
    "plan.withdraw": lambda o: {},
    "plan.withdraw_post": lambda o: {},
    "supervision.scan": lambda o: {"json": {"today": "2026-10-20"}},
    "supervision.answer": lambda o: {"data": {"answer": "matrix"}},
    "supervision.close": lambda o: {"json": {"note": "matrix"}},
    "supervision.template": lambda o: {"files": {"file": ("t.docx", o["content"], "application/octet-stream")}},
    "calendar.import": lambda o: {"files": {"file": ("c.csv", o["content"], "text/csv")}},
    "inbox.read": lambda o: {"json": {"ids": [o["message_id"]]}},
    "gov.round_open": lambda o: {"json": {"code": o["code"], "period": "monthly", "period_start": "2026-11-01",
                                          "period_end": "2026-11-30", "deadline": "2026-12-05",
                                          "measures": [ROUND_MEASURE], "include_co_units": False,
                                          "include_districts": False}},
    "gov.round_close": lambda o: {},
    "gov.filing_save": lambda o: {"json": {"version": 1, "status": "completed", "narrative": "filed"}},
    "gov.filing_submit": lambda o: {"json": {"version": 1, "status": "completed", "narrative": "filed",
                                             "submit": True}},
    "gov.filing_review": lambda o: {"json": {"version": 1, "decision": "return", "comment": "请补充"}},
    "gov.filing_attach": lambda o: {"files": {"file": ("evidence.pdf", MATRIX_PDF, "application/pdf")}},
    # issue 15: the project registry
    "project.create": lambda o: {"json": o["body"]},
    "project.edit": lambda o: {"json": {"version": 1, "name": o["name"]}},
    "project.import": lambda o: {"files": {"file": ("projects.csv", o["content"], "text/csv")},
                                 "data": {"apply": "true"}},
    # issue 15 item 5: the project workflow (project_workflow)
    "project.submit": lambda o: {"json": {}},
    "project.complete": lambda o: {"json": {}},
    "project.comment": lambda o: {"data": {"text": "matrix"}},
    "project.decide": lambda o: {"json": {"decision": "reject", "number": "N-matrix", "date": "2026-10-20",
                                          "reason": "matrix"}},
    "project.commission": lambda o: {"json": {"date": "2026-10-20"}},
    "project.accept": lambda o: {"json": {"measured": 8000, "source": "matrix"}},
    "project.withdraw": lambda o: {"json": {}},
    # issue 15 item 6: the energy-project registry
    "energy_project.create": lambda o: {"json": {"name": o["name"], "technology": "wind_onshore",
                                                 "region_code": "210202", "capacity_mw": 10}},
    "energy_project.edit": lambda o: {"json": {"capacity_mw": o["capacity"], "version": 1, "reason": "matrix"}},
    "energy_project.stage": lambda o: {"json": {"stage": "approved", "on": "2026-01-05", "version": 1}},
    "energy_project.import": lambda o: {"files": {"file": ("energy.csv", o["content"], "text/csv")},
                                        "data": {"apply": "true", "reason": "matrix"}},
}
API_CALLS.update({  # issue 15: the replacement ledgers
    "ledger.add_source": lambda o: {"json": o["values"]},
    "ledger.edit_source": lambda o: {"json": {"amount": o["amount"], "reason": "matrix"}},
    "ledger.import": lambda o: {"files": {"file": ("ledger.csv", o["content"], "text/csv")},
                                "data": {"apply": "true", "reason": "matrix"}},
    "ledger.allocate": lambda o: {"json": {"source": o["source"], "amount": "250", "unit": "tce"}},
    "ledger.release": lambda o: {"json": {"reason": "matrix"}},
})


API_CALLS.update({  # issue 16 (runs): assessment runs
    "assessment.scheme": lambda o: {"files": {"file": (f"{o['scheme']}.yaml", o["text"].encode(), "application/yaml")}},
    "assessment.run": lambda o: {"json": {"year": 2024, "scheme": o["scheme"]}},
    "assessment.adjust": lambda o: {"json": {"indicator": "q", "points": "20", "reason": "matrix",
                                             "version": o["version"]}},
    "assessment.object": lambda o: {"json": {"text": "matrix"}},
    "assessment.answer": lambda o: {"json": {"decision": "rejected", "answer": "matrix"}},
    "assessment.publish": lambda o: {"json": {"version": o["version"], "note": "matrix", "early": True}},
})


@pytest.mark.parametrize("write", sorted(w.name for w in WRITES if w.api))
def test_api_answers_as_the_matrix_declares(api, write):
    client, world, tokens = api
    declared, case = WRITES_BY_NAME[write], CASES[write]
    method, path = declared.api
    failures = []
    for index, actor in enumerate(ACTORS):
        expected = (declared.api_answers or {}).get(actor, MATRIX[write][actor])
        obj = case.setup(world, f"api-{write.replace('.', '-')}-{index}")
        obj.setdefault("tag", f"api-{write.replace('.', '-')}-{index}")
        before, rows = case.state(world, obj), audit_rows(world.db)
        headers = {"Authorization": f"Bearer {tokens[actor]}"}
        answer = client.request(method, API + _fill(path, obj), headers=headers, **API_CALLS[write](obj))
        _settle(client, answer, headers)
        if answer.status_code not in STATUS[expected]:
            failures.append(f"{method} {path} as {actor}: {answer.status_code}, declared {expected}: "
                            f"{answer.text[:200]}")
            continue
        if expected == "rej":
            data = answer.json()["data"]
            if (data["accepted"], data["rejected"]) != (0, 1) or case.state(world, obj) != before:
                failures.append(f"{method} {path} as {actor}: rows not rejected: {data}")
        elif expected == "ok":
            if audit_rows(world.db) <= rows:
                failures.append(f"{method} {path} as {actor}: done but not audited")
        elif (case.state(world, obj), audit_rows(world.db)) != (before, rows):
            failures.append(f"{method} {path} as {actor}: refused ({answer.status_code}) but something was written")
    assert not failures, "\n".join(failures)


# -- web -------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def web(tmp_path_factory):
    from citycarbon.store import users

    settings, db, principals, app = _app_world(tmp_path_factory, "matrix-web", web=True)
    sessions = {}
    with db.session() as session:
        for actor in ACTORS:
            if ":" not in actor:
                user = users.require_user(session, actor)
                sessions[actor] = users.create_session(session, users.principal_for_user(user))
    try:
        with TestClient(app, raise_server_exceptions=True) as client:
            yield client, World(db, settings, principals), sessions
    finally:
        db.dispose()


WEB_FORMS: dict[str, Callable[[dict], dict]] = {
    "import.upload": lambda o: {"files": {"file": (f"{o['tag']}.csv", statistics_row(), "text/csv")},
                                "data": {"kind": ""}},
    "import.approve": lambda o: {"data": {"reason": "matrix"}},
    "import.discard": lambda o: {"data": {"reason": "matrix"}},
    "user.create": lambda o: {"data": {"username": f"new-{o['tag']}", "role": "enterprise", "enterprise_id": X}},
    "user.disable": lambda o: {"data": {"disabled": "1"}},
    "user.reset_password": lambda o: {"data": {}},
    "user.unlock": lambda o: {"data": {}},
    "user.reset_totp": lambda o: {"data": {}},
    "token.issue_for": lambda o: {"data": {"scope": "read", "name": o["tag"]}},
    "token.revoke": lambda o: {"data": {}},
    "target.set": lambda o: {"data": {"target_id": o["target_id"], "value": str(o["value"]), "unit": "1",
                                      "document": "辽政发〔2022〕12号"}},
    "target.allocate": lambda o: {"data": {"target_id": o["target_id"], "district": "210202",
                                           "value": str(o["value"]), "unit": "1", "document": "辽政发〔2022〕12号"}},
    "city.create_upload": lambda o: {"data": {"code": o["code"]},
                                     "files": {"plan": (f"{o['code']}.yaml", o["text"].encode(), "text/yaml")}},
    "gov.org_edit": lambda o: {"data": {"name_zh": "大连市水务局", "name_en": o["name_en"], "short_zh": "市水务局",
                                        "kind": "department", "parent": "leading_group", "region_code": "",
                                        "active": "1", "reason": "matrix"}},
    "gov.org_import": lambda o: {"files": {"file": ("orgs.csv", o["content"], "text/csv")},
                                 "data": {"apply": "1", "reason": "matrix"}},
    "gov.measure_edit": lambda o: {"data": {"text_zh": o["text_zh"], "text_en": o["text_en"], "lead": o["lead"],
                                            "co_units": o["co_units"], "districts": o["districts"],
                                            "deadline": o["deadline"], "reason": "matrix"}},
    "gov.matrix_import": lambda o: {"files": {"file": ("matrix.xlsx", o["content"], "application/octet-stream")},
                                    "data": {"apply": "1", "reason": "matrix"}},
    "plan.register": lambda o: {"files": {"file": (f"{o['code']}.yaml", o["text"].encode(), "application/yaml")}},
    "plan.withdraw": lambda o: {"data": {}},
    "supervision.scan": lambda o: {"data": {"today": "2026-10-20"}},
    "supervision.answer": lambda o: {"data": {"answer": "matrix"}},
    "supervision.close": lambda o: {"data": {"note": "matrix"}},
    "supervision.template": lambda o: {"files": {"file": ("t.docx", o["content"], "application/octet-stream")}},
    "calendar.import": lambda o: {"files": {"file": ("c.csv", o["content"], "text/csv")}},
    "inbox.read": lambda o: {"data": {"message_id": str(o["message_id"])}},
    "gov.round_open": lambda o: {"data": {"code": o["code"], "period": "monthly", "period_start": "2026-11-01",
                                          "period_end": "2026-11-30", "deadline": "2026-12-05", "scope": "measures",
                                          "measures": ROUND_MEASURE}},
    "gov.round_close": lambda o: {"data": {}},
    "gov.filing_save": lambda o: {"data": {"version": "1", "status": "completed", "narrative": "filed",
                                           "action": "save"}},
    "gov.filing_submit": lambda o: {"data": {"version": "1", "status": "completed", "narrative": "filed",
                                             "action": "submit"}},
    "gov.filing_review": lambda o: {"data": {"version": "1", "decision": "return", "comment": "请补充"}},
    "gov.filing_attach": lambda o: {"files": {"file": ("evidence.pdf", MATRIX_PDF, "application/pdf")},
                                    "data": {}},
    # issue 15: the project registry (the new-project form: one energy line)
    "project.create": lambda o: {"data": {**{k: v for k, v in o["body"].items() if k != "energy"},
                                          "group_0": "energy", "fuel_0": "electricity", "quantity_0": "100",
                                          "unit_0": "10^4 kWh"}},
    "project.import": lambda o: {"files": {"file": ("projects.csv", o["content"], "text/csv")},
                                 "data": {"apply": "1"}},
    # issue 15 item 5: the project workflow (project_workflow)
    "project.submit": lambda o: {"data": {}},
    "project.complete": lambda o: {"data": {}},
    "project.comment": lambda o: {"data": {"text": "matrix"}},
    "project.decide": lambda o: {"data": {"decision": "reject", "number": "N-matrix", "decision_date": "2026-10-20",
                                          "reason": "matrix"}},
    "project.commission": lambda o: {"data": {"commissioning_date": "2026-10-20"}},
    "project.accept": lambda o: {"data": {"measured": "8000", "source": "matrix"}},
    "project.withdraw": lambda o: {"data": {}},
    # issue 15 item 6: the energy-project registry
    "energy_project.create": lambda o: {"data": {"name": o["name"], "technology": "wind_onshore",
                                                 "region_code": "210202", "capacity_mw": "10"}},
    "energy_project.stage": lambda o: {"data": {"stage": "approved", "on": "2026-01-05", "version": "1"}},
    "energy_project.import": lambda o: {"files": {"file": ("energy.csv", o["content"], "text/csv")},
                                        "data": {"apply": "1", "reason": "matrix"}},
}
WEB_FORMS.update({  # issue 15: the replacement ledgers
    "ledger.add_source": lambda o: {"data": dict(o["values"])},
    "ledger.import": lambda o: {"files": {"file": ("ledger.csv", o["content"], "text/csv")},
                                "data": {"apply": "1", "reason": "matrix"}},
    "ledger.allocate": lambda o: {"data": {"source": o["source"], "amount": "250", "unit": "tce"}},
    "ledger.release": lambda o: {"data": {"reason": "matrix"}},
})
WEB_STATUS = {"ok": {200, 303}, "403": {403}, "404": {404}, "422": {422}}


@pytest.mark.parametrize("write", sorted(w.name for w in WRITES if w.web))
def test_web_answers_as_the_matrix_declares(web, write):
    client, world, sessions = web
    declared, case = WRITES_BY_NAME[write], CASES[write]
    method, path = declared.web
    failures = []
    for index, actor in enumerate(a for a in ACTORS if ":" not in a):
        offered = declared.web_offers is None or actor in declared.web_offers
        expected = MATRIX[write][actor] if offered else "403"
        obj = case.setup(world, f"web-{write.replace('.', '-')}-{index}")
        obj.setdefault("tag", f"web-{write.replace('.', '-')}-{index}")
        before, rows = case.state(world, obj), audit_rows(world.db)
        form = WEB_FORMS[write](obj)
        form["data"] = {**form.get("data", {}), "csrf_token": sessions[actor][1]}
        client.cookies.clear()
        client.cookies.set("cc_session", sessions[actor][0])
        answer = client.request(method, _fill(path, obj), follow_redirects=False, **form)
        if answer.status_code not in WEB_STATUS[expected]:
            failures.append(f"{method} {path} as {actor}: {answer.status_code}, declared {expected}")
        elif expected == "ok":
            if audit_rows(world.db) <= rows or (case.state(world, obj) == before and write != "import.upload"):
                failures.append(f"{method} {path} as {actor}: answered {answer.status_code} but nothing was done")
        elif (case.state(world, obj), audit_rows(world.db)) != (before, rows):
            failures.append(f"{method} {path} as {actor}: refused ({answer.status_code}) but something was written")
    assert not failures, "\n".join(failures)


def test_a_web_write_without_the_csrf_token_writes_nothing(web):
    client, world, sessions = web
    obj = CASES["user.disable"].setup(world, "web-csrf")
    before, rows = CASES["user.disable"].state(world, obj), audit_rows(world.db)
    client.cookies.clear()
    client.cookies.set("cc_session", sessions["admin"][0])
    answer = client.post(f"/admin/users/{obj['username']}/disable", data={"disabled": "1"}, follow_redirects=False)
    assert answer.status_code == 403
    assert (CASES["user.disable"].state(world, obj), audit_rows(world.db)) == (before, rows)


# -- CLI -------------------------------------------------------------------------------------------------------

def _cli(*args: str):
    from typer.testing import CliRunner

    from citycarbon.cli import app

    return CliRunner().invoke(app, [*args, "--format", "json"] if args[-1] != "--" else list(args[:-1]))


def _cli_args(write: str, obj: dict, tmp: Path) -> list[str]:
    if write == "import.upload":
        path = tmp / f"{obj['tag']}.csv"
        path.write_bytes(statistics_row())
        return ["imports", "upload", str(path)]
    if write == "import.file":
        path = tmp / f"{obj['tag']}.csv"
        path.write_bytes(statistics_row())
        return ["data", "import", str(path), "--approve", "--reason", "matrix"]
    if write == "energy_project.import":  # issue 15 item 6
        path = tmp / f"{obj['tag']}.csv"
        path.write_bytes(obj["content"])
        return ["energy-projects", "import", str(path), "--apply", "--reason", "matrix"]
    if write in ("gov.org_import", "gov.matrix_import"):
        path = tmp / f"{obj['tag']}.{'csv' if write == 'gov.org_import' else 'xlsx'}"
        path.write_bytes(obj["content"])
        return [*WRITES_BY_NAME[write].cli.split(), str(path), "--apply", "--reason", "matrix"]
    if write == "plan.register":
        path = tmp / f"{obj['code']}.yaml"
        path.write_text(obj["text"], encoding="utf-8")
        return ["governance", "plans", "register", str(path)]
    if write in ("supervision.template", "calendar.import"):
        path = tmp / (f"{obj['tag']}.docx" if write == "supervision.template" else f"{obj['tag']}.csv")
        path.write_bytes(obj["content"])
        return [*WRITES_BY_NAME[write].cli.split(), str(path)]
    if write in ("project.create", "project.edit", "project.import"):  # issue 15: the project registry
        import yaml

        path = tmp / f"{obj['tag']}.{'csv' if write == 'project.import' else 'yaml'}"
        if write == "project.import":
            path.write_bytes(obj["content"])
            return ["projects", "import", str(path), "--apply"]
        path.write_text(yaml.safe_dump(obj["body"] if write == "project.create" else {"name": obj["name"]},
                                       allow_unicode=True), encoding="utf-8")
        if write == "project.create":
            return ["projects", "create", "--file", str(path)]
        return ["projects", "edit", str(obj["code"]), "--version", "1", "--file", str(path)]
    if write == "ledger.import":
        path = tmp / f"{obj['tag']}.csv"
        path.write_bytes(obj["content"])
        return ["projects", "ledger", "import", str(path), "--apply", "--reason", "matrix"]
    if write in ("ledger.add_source", "ledger.allocate", "ledger.release"):
        values = obj.get("values") or {}
        return {"ledger.add_source": ["projects", "ledger", "add", str(obj.get("source")), "--kind", "energy",
                                      "--amount", "500", "--unit", "tce", "--document", str(values.get("document")),
                                      "--origin", "saving", "--region", str(values.get("region_code"))],
                "ledger.allocate": ["projects", "allocate", str(obj.get("code")), "--source", str(obj.get("source")),
                                    "--amount", "250", "--unit", "tce"],
                "ledger.release": ["projects", "release", str(obj.get("allocation_id")), "--reason", "matrix"]}[write]
    if write.startswith("assessment."):  # issue 16 (runs): the CLI finds the year's run by its scheme
        year = ["--year", "2024", "--scheme", str(obj.get("scheme"))]
        return {"assessment.run": ["assess", "run", *year],
                "assessment.adjust": ["assess", "adjust", *year, "--unit", str(obj.get("unit")), "--item", "q",
                                      "--points", "20", "--reason", "matrix"],
                "assessment.answer": ["assess", "answer", *year, "--objection", str(obj.get("objection_id")),
                                      "--decision", "rejected", "--answer", "matrix"],
                "assessment.publish": ["assess", "publish", *year, "--early", "--note", "matrix"]}[write]
    if write == "gov.filing_attach":
        path = tmp / "evidence.pdf"
        path.write_bytes(MATRIX_PDF)
        return ["governance", "filings", "attach", str(obj.get("filing_id")), str(path)]
    command = WRITES_BY_NAME[write].cli.split()
    filing = [str(obj.get("filing_id")), "--version", "1"]
    tail = {"import.approve": [str(obj.get("batch_id"))], "import.discard": [str(obj.get("batch_id"))],
            "user.create": ["--username", f"new-{obj['tag']}", "--role", "enterprise", "--enterprise", X],
            "user.create_admin": ["--username", f"adm-{obj['tag']}"],
            "token.issue_for": ["--username", "district-a", "--scope", "read", "--name", obj["tag"]],
            "token.revoke": [str(obj.get("prefix"))], "totp.rotate_key": [],
            "target.set": [OPEN_TARGET, "--value", str(obj.get("value")), "--unit", "1", "--document",
                           "辽政发〔2022〕12号"],
            "target.allocate": [OPEN_TARGET, "--district", "210202", "--value", str(obj.get("value")), "--unit", "1",
                                "--document", "辽政发〔2022〕12号"],
            "city.create": ["--plan", str(obj.get("path")), "--code", str(obj.get("code"))],
            "user.city": [str(obj.get("username")), "dalian"],
            "gov.org_edit": ["water", "--name-en", str(obj.get("name_en")), "--reason", "matrix"],
            "gov.measure_edit": [str(obj.get("code")), "--text-en", str(obj.get("text_en")), "--reason", "matrix"],
            "plan.withdraw": [str(obj.get("code"))],
            "supervision.scan": ["--as-of", "2026-10-20"],
            "supervision.answer": [str(obj.get("item_id")), "--text", "matrix"],
            "supervision.close": [str(obj.get("item_id")), "--note", "matrix"],
            "gov.round_open": [str(obj.get("code")), "--period", "monthly", "--start", "2026-11-01", "--end",
                               "2026-11-30", "--deadline", "2026-12-05", "--measure", ROUND_MEASURE,
                               "--no-co-units", "--no-districts"],
            "gov.round_close": [str(obj.get("code"))],
            "gov.filing_save": [*filing, "--status", "completed", "--narrative", "filed"],
            "gov.filing_submit": [*filing, "--status", "completed", "--narrative", "filed"],
            "gov.filing_review": [*filing, "--decision", "return", "--comment", "请补充"],
            # issue 15 item 5: the project workflow (project_workflow)
            "project.submit": [str(obj.get("code"))], "project.complete": [str(obj.get("code"))],
            "project.comment": [str(obj.get("code")), "--text", "matrix"],
            "project.decide": [str(obj.get("code")), "--decision", "reject", "--number", "N-matrix", "--date",
                               "2026-10-20", "--reason", "matrix"],
            "project.commission": [str(obj.get("code")), "--date", "2026-10-20"],
            "project.accept": [str(obj.get("code")), "--measured", "8000", "--source", "matrix"],
            "project.withdraw": [str(obj.get("code"))],
            # issue 15 item 6: the energy-project registry
            "energy_project.create": ["--name", str(obj.get("name")), "--technology", "wind_onshore",
                                      "--region-code", "210202", "--capacity-mw", "10"],
            "energy_project.stage": [str(obj.get("code")), "approved", "--version", "1", "--on", "2026-01-05"]}
    return [*command, *tail.get(write, [str(obj.get("username"))])]


@pytest.mark.parametrize("write", sorted(w.name for w in WRITES if w.cli))
def test_the_cli_does_what_the_admin_may(world, write, tmp_path):
    """The CLI is the operator (an administrator): every write it offers is done and audited as the admin's cell
    of the matrix says."""
    assert MATRIX[write]["admin"] == "ok"
    case = CASES[write]
    obj = case.setup(world, f"cli-{write.replace('.', '-')}")
    obj.setdefault("tag", f"cli-{write.replace('.', '-')}")
    before, rows = case.state(world, obj), audit_rows(world.db)
    result = _cli(*_cli_args(write, obj, tmp_path))
    assert result.exit_code == 0, result.output
    assert audit_rows(world.db) > rows
    if write != "import.upload":
        assert case.state(world, obj) != before


ADMIN_MAY_NOT = {
    "enterprise that does not exist": (["users", "add", "--username", "ghost-e", "--role", "enterprise",
                                        "--enterprise", "91210200MA0NOTHERE"], "enterprise"),
    "region that does not exist": (["users", "add", "--username", "ghost-r", "--role", "district", "--region",
                                    "999999"], "region"),
    "district without a region": (["users", "add", "--username", "ghost-n", "--role", "district"], "region"),
    "token for nobody": (["users", "token", "--username", "nobody", "--scope", "read"], "nobody"),
    "revoke an unknown token": (["users", "revoke-token", "0badc0de"], "0badc0de"),
}


@pytest.mark.parametrize("refusal", sorted(ADMIN_MAY_NOT))
def test_the_cli_refuses_what_an_admin_may_not(world, refusal):
    args, named = ADMIN_MAY_NOT[refusal]
    rows = audit_rows(world.db)
    result = _cli(*args)
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert audit_rows(world.db) == rows


def test_the_cli_refuses_to_approve_a_discarded_batch(world):
    obj = CASES["import.discard"].setup(world, "cli-discarded")
    assert _cli("imports", "discard", str(obj["batch_id"])).exit_code == 0
    rows = audit_rows(world.db)
    again = _cli("imports", "approve", str(obj["batch_id"]))
    assert again.exit_code == 2 and "discarded" in again.output
    assert audit_rows(world.db) == rows
    assert json.loads(_cli("imports", "show", str(obj["batch_id"])).stdout)["status"] == "discarded"


# -- MQTT ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ["enterprise-x", "enterprise-y"])
def test_mqtt_ingest_answers_as_the_matrix_declares(world, actor):
    """The MQTT face: the caller is the enterprise the topic names (the broker's ACL lets a terminal publish only
    under its own enterprise); a message on enterprise Y's topic holding enterprise X's point is taken and its
    rows rejected, as an HTTP batch from enterprise Y's token is."""
    from citycarbon.monitoring.lake import Lake
    from citycarbon.monitoring.mqtt import MqttIngest
    from citycarbon.services.monitoring.submissions import registry_source, submission_recorder
    from tests.permissions.cases import Y, _lake_rows, _reading

    enterprise = {"enterprise-x": X, "enterprise-y": Y}[actor]
    expected = MATRIX["readings.ingest"][actor]
    _, registry = registry_source(world.db)()
    service = MqttIngest(Lake.for_settings(world.settings), registry, record=submission_recorder(world.db))
    before = _lake_rows(world)
    result = service.handle(f"cc/readings/{enterprise}", json.dumps(_reading(f"mqtt-{actor}")).encode())
    report = result["report"]
    if expected == "ok":
        assert (report["accepted"], report["rejected"]) == (1, 0)
        assert _lake_rows(world) == before + 1
    else:
        assert expected == "rej" and (report["accepted"], report["rejected"]) == (0, 1)
        assert _lake_rows(world) == before


API_CALLS.update({  # issue 16 (reports)
    "report.generate": lambda o: {"json": {"year": 2024, "formats": ["docx"]}},
    "report.narrative": lambda o: {"json": {"year": 2024, "section": "problems", "version": o["version"],
                                            "text": o["tag"]}},
})


WEB_FORMS.update({  # issue 16 (web): the assessment board's and the reports page's forms
    "assessment.run": lambda o: {"data": {"year": "2024", "scheme": o["scheme"]}},
    "assessment.adjust": lambda o: {"data": {"indicator": "q", "points": "20", "reason": "matrix",
                                             "version": str(o["version"])}},
    "assessment.object": lambda o: {"data": {"text": "matrix"}},
    "assessment.answer": lambda o: {"data": {"decision": "rejected", "answer": "matrix", "unit_code": o["unit"]}},
    "assessment.publish": lambda o: {"data": {"version": str(o["version"]), "note": "matrix", "early": "1"}},
    "report.generate": lambda o: {"data": {"year": "2024", "formats": ["docx"]}},
    "report.narrative": lambda o: {"data": {"year": "2024", "section": "problems", "version": str(o["version"]),
                                            "text": o["tag"]}},
})
