"""``citycarbon imports`` goes through the same import service as the web and the API (SQLite and PostgreSQL):
upload → rejected with its problems (exit 2) or validated → show → approve (the ledger changes, audited as the
CLI operator) → a second approval is refused."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.store import audit

GOOD = "year,region,variable,value,unit,price_base_year,status,source\n2022,210211,population,80.1,10^4 person,,,\n"


def _invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == code, result.output
    return result


def test_the_cli_imports_through_the_service(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("population", "populaton"), encoding="utf-8")
    refused = _invoke("imports", "upload", str(bad), code=2)
    assert "row 2" in refused.stderr and "variable" in refused.stderr  # the header is row 1
    good = tmp_path / "ganjingzi.csv"
    good.write_text(GOOD, encoding="utf-8")
    batch = json.loads(_invoke("imports", "upload", str(good), "--reason", "census").stdout)
    assert batch["status"] == "validated" and batch["preview"]["regions"] == ["210211"]
    shown = json.loads(_invoke("imports", "show", str(batch["id"])).stdout)
    assert shown["preview_now"]["new"] == 1
    listed = json.loads(_invoke("imports", "list", "--status", "validated").stdout)["batches"]
    assert [b["id"] for b in listed] == [batch["id"]]
    approved = json.loads(_invoke("imports", "approve", str(batch["id"]), "--reason", "census 2022").stdout)
    assert approved["ledger"]["inserted"] == 1
    again = _invoke("imports", "approve", str(batch["id"]), code=2)
    assert "approved" in again.stderr
    missing = _invoke("imports", "show", "99999999999999999999999", code=2)
    assert "not found" in missing.stderr
    with db.session() as session:
        entry = audit.query(session, action="import.approve")[0]
    assert entry["actor"].startswith("cli:") and entry["entity_id"] == str(batch["id"])
