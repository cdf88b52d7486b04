"""``citycarbon governance round …`` and ``citycarbon governance filings …``: open a round, file, submit, attach,
review and close from the command line (the operator: the office) with every output format; refusals exit 2
naming the problem."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from tests.db_fixtures import pg_admin, seeded_db, settings  # noqa: F401
from tests.governance.rounds_support import PDF, measure_with_indicators


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _json(*args: str):
    result = _run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def measure(seeded_db):  # noqa: F811 (the shared fixture, imported above)
    return measure_with_indicators(seeded_db)


def test_a_round_from_open_to_close(measure, tmp_path):
    opened = _json("governance", "round", "open", "2026Q4", "--period", "quarterly", "--deadline", "2027-01-10",
                   "--task", "4", "--no-districts")
    assert opened["period_end"] == "2026-12-31" and opened["counts"]["not_filed"] == opened["counts"]["assignments"]
    table = _run("governance", "round", "list")
    assert table.exit_code == 0 and "2026Q4" in table.stdout
    rows = list(csv.DictReader(io.StringIO(_run("governance", "round", "show", "2026Q4", "--format", "csv").stdout)))
    assert rows[0]["code"] == "2026Q4" and rows[0]["state"] == "open"

    filings = _json("governance", "filings", "list", "2026Q4", "--org", "miit")
    fid = str(next(f["id"] for f in filings if f["measure"] == measure))
    bad = _run("governance", "filings", "file", fid, "--version", "0", "--status", "done")
    assert bad.exit_code == 2 and "status" in bad.output
    unknown = _run("governance", "filings", "file", fid, "--version", "0", "--status", "in_progress",
                   "--indicator", "wind_mw=3")
    assert unknown.exit_code == 2 and "indicator_values.wind_mw" in unknown.output
    saved = _json("governance", "filings", "file", fid, "--version", "0", "--status", "in_progress",
                  "--indicator", "pv_mw=95.5", "--narrative", "开工")
    assert saved["version"] == 1 and saved["indicator_values"] == {"pv_mw": 95.5}
    stale = _run("governance", "filings", "file", fid, "--version", "0", "--status", "completed")
    assert stale.exit_code == 2 and "version 0" in stale.output
    evidence = tmp_path / "批复.pdf"
    evidence.write_bytes(PDF)
    attached = _json("governance", "filings", "attach", fid, str(evidence))
    assert attached["media_type"] == "application/pdf" and attached["filing_version"] == 1
    exe = tmp_path / "tool.pdf"
    exe.write_bytes(b"MZ\x90\x00")
    refused = _run("governance", "filings", "attach", fid, str(exe))
    assert refused.exit_code == 2 and "tool.pdf" in refused.output
    submitted = _json("governance", "filings", "submit", fid, "--version", "1", "--status", "completed")
    assert submitted["state"] == "submitted"
    returned = _json("governance", "filings", "review", fid, "--version", "2", "--decision", "return",
                     "--comment", "请补充")
    assert returned["state"] == "returned"
    _json("governance", "filings", "submit", fid, "--version", "3", "--status", "completed")
    accepted = _json("governance", "filings", "review", fid, "--version", "4", "--decision", "accept")
    assert accepted["state"] == "accepted"
    history = _run("governance", "filings", "show", fid)
    assert history.exit_code == 0 and "return" in history.stdout and "请补充" in history.stdout
    assert [f["id"] for f in _json("governance", "filings", "list", "2026Q4", "--state", "accepted")] == [int(fid)]
    closed = _json("governance", "round", "close", "2026Q4")
    assert closed["state"] == "closed"
    again = _run("governance", "round", "close", "2026Q4")
    assert again.exit_code == 2 and "closed" in again.output
