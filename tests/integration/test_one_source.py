"""One source of data for every face (issue 12): after an approved import, the CLI, the API, the cockpit and
the Python library all read the ledger and show the new figure; ``--source files`` / ``source="files"``
still reads the shipped CSVs.

The figure: Dalian's 2020 GDP at constant 2020 prices, 7 030.4 亿元 in the shipped statistics, imported as
7 500.0 亿元 through the store's import service (upload → approve), so ``gdp_10k_yuan`` of 2020 becomes
7.5e7 万元 and every intensity of 2020 moves with it.
"""

from __future__ import annotations

import json
import re
import warnings

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app as cli_app
from citycarbon.services.sources import Source, database_exists, resolve_source
from tests.db_fixtures import *  # noqa: F403

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SHIPPED_GDP = 7030.4e4  # 10^4 CNY
IMPORTED_GDP = 7500.0e4
UPLOAD = (b"year,region,variable,value,unit,price_base_year\n"
          b"2020,210200,gdp,7500.0,10^8 CNY,2020\n")


def approve_new_gdp(db) -> None:
    from citycarbon.store import imports

    with db.session() as session:
        batch = imports.create_batch(session, filename="gdp2020.csv", content=UPLOAD, actor="analyst",
                                     mode="none")
        assert batch["status"] == "validated", batch["problems"]
        assert batch["preview"]["changed"] == 1
    with db.session() as session:
        imports.approve(session, batch["id"], actor="admin", reason="revised 2020 GDP")


def test_the_default_source_follows_the_database(settings, tmp_path):
    from dataclasses import replace

    assert not database_exists(settings) and resolve_source(None, settings) is Source.files
    assert resolve_source("store", settings) is Source.store and resolve_source("FILES") is Source.files
    from citycarbon.errors import InputError

    with pytest.raises(InputError) as caught:
        resolve_source("ledger", settings)
    assert caught.value.problems[0].field == "source"
    (settings.ensure_home() / "citycarbon.db").write_bytes(b"")
    assert database_exists(settings) and resolve_source(None, settings) is Source.store
    server = replace(settings, database_url="postgresql+psycopg://u@db.example/citycarbon")
    assert resolve_source(None, server) is Source.store


def test_store_chosen_without_data_is_a_clear_error(settings):
    from citycarbon.services.accounting import account_city

    result = CliRunner().invoke(cli_app, ["account", "--year", "2020", "--source", "store"])
    assert result.exit_code == 2
    assert "citycarbon db seed" in result.stderr and "--source files" in result.stderr
    assert account_city(2020).indicators["gdp_10k_yuan"] == pytest.approx(SHIPPED_GDP)  # no database: files
    assert not database_exists(settings)  # reading created no database file


def test_an_approved_import_reaches_every_face(seeded_db, settings):
    from citycarbon.api.app import create_app
    from citycarbon.services.accounting import account_city
    from citycarbon.services.pathways import PathwayService
    from citycarbon.services.tracking import status_report
    from citycarbon.store import users

    before = account_city(2020).indicators  # the seeded ledger = the shipped files
    assert before["gdp_10k_yuan"] == pytest.approx(SHIPPED_GDP)
    approve_new_gdp(seeded_db)

    # the Python library: the ledger by default, the shipped files on request
    now = account_city(2020).indicators
    assert now["gdp_10k_yuan"] == pytest.approx(IMPORTED_GDP)
    assert now["energy_intensity_tce_per_10k_yuan"] == pytest.approx(
        before["energy_intensity_tce_per_10k_yuan"] * SHIPPED_GDP / IMPORTED_GDP)
    assert account_city(2020, source="files").indicators["gdp_10k_yuan"] == pytest.approx(SHIPPED_GDP)
    assert PathwayService("dalian").model().base.gdp_10k_yuan == pytest.approx(IMPORTED_GDP)
    assert PathwayService("dalian", source="files").model().base.gdp_10k_yuan == pytest.approx(SHIPPED_GDP)

    # the CLI: the ledger by default (CITYCARBON_HOME holds the database), --source files for the CSVs
    runner = CliRunner()
    account = runner.invoke(cli_app, ["account", "--year", "2020", "--format", "json"])
    assert account.exit_code == 0, account.stderr
    assert json.loads(account.stdout)["indicators"]["gdp_10k_yuan"] == pytest.approx(IMPORTED_GDP)
    files = runner.invoke(cli_app, ["account", "--year", "2020", "--format", "json", "--source", "files"])
    assert json.loads(files.stdout)["indicators"]["gdp_10k_yuan"] == pytest.approx(SHIPPED_GDP)
    status = runner.invoke(cli_app, ["status", "--year", "2020", "--format", "json"])
    assert status.exit_code == 0, status.stderr
    cli_status = json.loads(status.stdout)
    city_gdp = sum(d["gdp_10k_yuan"] for d in cli_status["districts"])
    assert city_gdp == pytest.approx(IMPORTED_GDP)
    files_status = json.loads(runner.invoke(cli_app, ["status", "--year", "2020", "--format", "json",
                                                      "--source", "files"]).stdout)
    assert sum(d["gdp_10k_yuan"] for d in files_status["districts"]) == pytest.approx(SHIPPED_GDP)
    library_status = status_report(2020)
    assert sum(d["gdp_10k_yuan"] for d in library_status["districts"]) == pytest.approx(IMPORTED_GDP)
    assert [t["actual"] for t in library_status["targets"]] == [t["actual"] for t in cli_status["targets"]]

    # the API and the cockpit (one app over the same database)
    with seeded_db.session() as session:
        admin, _ = users.create_user(session, username="admin", role="admin", actor="test")
        token = users.issue_token(session, admin, "read", "read token", actor="test")
        cookie, _csrf = users.create_session(session, users.principal_for_user(admin))
    from dataclasses import replace

    app = create_app(replace(settings, database_url=seeded_db.url, cookie_secure=False), prepare=False,
                     warm=False)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        indicators = client.get("/api/v1/indicators/2020", headers=headers)
        assert indicators.status_code == 200
        assert indicators.json()["data"]["indicators"]["gdp_10k_yuan"] == pytest.approx(IMPORTED_GDP)
        api_status = client.get("/api/v1/status", params={"year": 2020}, headers=headers).json()["data"]
        assert [t["actual"] for t in api_status["targets"]] == [t["actual"] for t in cli_status["targets"]]
        assert app.state.pathways.model().base.gdp_10k_yuan == pytest.approx(IMPORTED_GDP)
        client.cookies.set("cc_session", cookie)
        page = client.get("/accounting?year=2020&lang=en")
        assert page.status_code == 200
        numbers = {float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*\.\d+", page.text)}
        assert any(abs(n * 1e4 - IMPORTED_GDP) < 1e3 for n in numbers), "the imported GDP is not on the page"
        assert not any(abs(n * 1e4 - SHIPPED_GDP) < 1e3 for n in numbers)
