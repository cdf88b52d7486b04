"""``citycarbon imports upload|approve`` show a spinner on stderr while the service works (off with --quiet); the
JSON on stdout is unchanged and a refusal's problems still reach stderr, after the spinner is gone."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from citycarbon.cli import app
from tests.services.test_imports_cli import GOOD


def test_upload_and_approve_spinner_on_stderr_only(db, tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv("CITYCARBON_PROGRESS", "always")
    monkeypatch.setenv("COLUMNS", "200")
    good = tmp_path / "ganjingzi.csv"
    good.write_text(GOOD, encoding="utf-8")
    shown = runner.invoke(app, ["imports", "upload", str(good), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert "校验导入 / validate ganjingzi.csv" in shown.stderr and "1/1" in shown.stderr
    batch = json.loads(shown.stdout)
    assert batch["status"] == "validated"
    quiet = runner.invoke(app, ["imports", "approve", str(batch["id"]), "--format", "json", "--quiet"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout)["ledger"]["inserted"] == 1

    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("population", "populaton"), encoding="utf-8")
    refused = runner.invoke(app, ["imports", "upload", str(bad), "--format", "json"])
    assert refused.exit_code == 2
    error = refused.stderr.rindex("error:")
    assert "validate bad.csv" in refused.stderr[:error]  # the spinner came (and went) before the error
    assert "row 2" in refused.stderr[error:] and "variable" in refused.stderr[error:]  # header: row 1
