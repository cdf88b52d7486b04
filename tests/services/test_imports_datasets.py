"""Every table of the registry through the one import workflow (upload → validate → preview → approve), the
default ``keys`` mode that changes only the uploaded keys, the preview that lists every value ``years`` would
close, the per-row origin (status, batch) of ledger reads, and ``citycarbon data import``."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from citycarbon.auth.principal import Principal
from citycarbon.cli import app
from citycarbon.errors import Forbidden, InputError
from citycarbon.services import imports as service
from citycarbon.store import ledger
from citycarbon.tables import Table, import_tables

ADMIN = Principal(1, "admin", "admin")
ANALYST = Principal(2, "analyst", "analyst")
GANJINGZI = "210211"


def _toy_row(spec: Table) -> dict[str, object]:
    """One valid row of any registry table, built from its entry alone (year 2030, Ganjingzi, first codes)."""
    if spec.name == "balance":
        return {"year": 2030, "region": GANJINGZI, "flow": "production", "sector": "", "fuel": "raw_coal",
                "quantity": 1.5, "unit": "t"}
    row: dict[str, object] = {}
    rule = spec.unit_rule
    for column in spec.columns:
        if column.optional:
            continue
        if column.name == "year":
            row["year"] = 2030
        elif column.name == "month":
            row["month"] = 1
        elif column.name == "region":
            row["region"] = GANJINGZI
        elif column.name == spec.value:
            row[column.name] = 0.5
        elif rule is not None and column.name == rule.column:
            row[column.name] = "dimensionless"
        elif column.codelist:
            row[column.name] = column.codes()[0]
        elif column.name == "target_id":
            row["target_id"] = "energy_intensity_reduction_2025"
        elif column.name == "source":
            row["source"] = "辽政发〔2022〕1号 | 2022-06-30"
        else:
            row[column.name] = ""
    if rule is not None and rule.by is not None:
        row[rule.column] = spec.reference_units()[str(row[rule.by])]
    return row


def _csv(rows: list[dict[str, object]]) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode()


@pytest.mark.parametrize("name", list(import_tables()))
def test_every_registry_table_imports_through_the_one_workflow(sqlite_db, name):
    spec = import_tables()[name]
    row = _toy_row(spec)
    batch = service.upload_batch(sqlite_db, ANALYST, filename=f"{name}.csv", content=_csv([row]), kind=name,
                                 status="reported")
    assert batch.status == "validated", batch.problems
    assert batch.kind == name and batch.mode == "keys" and batch.preview.new == 1
    approval = service.approve_batch(sqlite_db, ADMIN, batch.id, reason="toy")
    assert approval.inserted == 1 and approval.closed == 0
    with sqlite_db.session() as session:
        frame = ledger.provenance_frame(session, spec.name, region=GANJINGZI)
    stored = frame[frame["year"] == 2030]
    assert len(stored) == 1
    assert float(stored[spec.value].iloc[0]) == pytest.approx(float(row[spec.value]))  # type: ignore[arg-type]
    assert stored["status"].iloc[0] == "reported" and int(stored["batch_id"].iloc[0]) == batch.id
    assert stored["source"].iloc[0] == row.get("source", f"import batch {batch.id}: {name}.csv")


#: tables with the same columns as another and no codelist to tell them apart: an upload must name its dataset
TWINS = ("target_values", "target_allocations")


@pytest.mark.parametrize("name", [n for n in import_tables() if n not in TWINS])
def test_every_registry_table_is_detected_from_its_columns(sqlite_db, name):
    batch = service.upload_batch(sqlite_db, ANALYST, filename=f"{name}.csv",
                                 content=_csv([_toy_row(import_tables()[name])]))
    assert batch.status == "validated" and batch.kind == name, batch.problems


@pytest.mark.parametrize("name", TWINS)
def test_tables_with_the_same_columns_are_refused_unless_named(sqlite_db, name):
    batch = service.upload_batch(sqlite_db, ANALYST, filename=f"{name}.csv",
                                 content=_csv([_toy_row(import_tables()[name])]))
    assert batch.status == "rejected"
    problem = batch.problems[0]
    assert problem.field == "dataset" and set(TWINS) <= set(str(problem.suggestion).split(", "))
    named = service.upload_batch(sqlite_db, ANALYST, filename=f"{name}.csv",
                                 content=_csv([_toy_row(import_tables()[name])]), kind=name)
    assert named.status == "validated" and named.kind == name


def test_a_bad_row_of_a_registry_table_names_row_field_and_nearest_code(sqlite_db):
    rows = [_toy_row(import_tables()["capacity"]) for _ in range(2)]
    rows[1]["technology"] = "wind_onshor"
    rows[0]["unit"] = "ha"
    batch = service.upload_batch(sqlite_db, ANALYST, filename="capacity.csv", content=_csv(rows), kind="capacity")
    assert batch.status == "rejected"
    found = {(p.row, p.field): p for p in batch.problems}
    # rows as the spreadsheet shows them: the header is row 1
    assert found[(3, "technology")].suggestion == "wind_onshore"
    assert "does not fit" in found[(2, "unit")].message


def test_the_nowcast_feed_of_the_meter_lake_imports_as_the_monthly_dataset(sqlite_db):
    from citycarbon.monitoring.alerts import monthly_energy_for_nowcast

    rollup = pd.DataFrame({"month": ["2025-01", "2025-01", "2025-02"], "energy_tce": [10.0, 5.0, 7.5],
                           "enterprise_id": ["a", "b", "a"]})
    feed = monthly_energy_for_nowcast(rollup, region="210200")
    # exactly what `citycarbon monitoring nowcast-feed --out FILE` writes
    content = feed.drop(columns=["enterprises"]).to_csv(index=False).encode()
    batch = service.upload_batch(sqlite_db, ANALYST, filename="feed.csv", content=content)
    assert batch.status == "validated", batch.problems
    assert batch.kind == "monthly" and batch.preview.rows == 2
    service.approve_batch(sqlite_db, ADMIN, batch.id, reason="lake")
    with sqlite_db.session() as session:
        monthly = ledger.current_frame(session, "monthly", region="210200")
    mine = monthly[(monthly["year"] == 2025) & (monthly["variable"] == "key_unit_energy_tce")]
    assert mine.sort_values("month")["value"].tolist() == [15.0, 7.5]
    assert set(mine["status"]) == {"reported"}


def _statistics_of(db, year: int, region: str = "210200") -> pd.DataFrame:
    with db.session() as session:
        frame = ledger.current_frame(session, "statistics", region=region)
    return frame[frame["year"] == year]


def test_a_one_line_gdp_correction_closes_no_other_row_of_the_year(seeded_db):
    before = _statistics_of(seeded_db, 2024)
    assert len(before) > 1 and "gdp" in set(before["variable"])
    gdp = before[(before["variable"] == "gdp") & before["price_base_year"].isna()]
    corrected = float(gdp["value"].iloc[0]) + 1.0
    line = f"year,region,variable,value,unit\n2024,210200,gdp,{corrected},{gdp['unit'].iloc[0]}\n".encode()
    batch = service.upload_batch(seeded_db, ANALYST, filename="gdp.csv", content=line)
    assert batch.mode == "keys" and batch.preview.changed == 1 and batch.preview.closed == 0
    assert batch.preview.closing == ()
    approval = service.approve_batch(seeded_db, ADMIN, batch.id, reason="corrected GDP")
    assert (approval.superseded, approval.closed, approval.inserted) == (1, 0, 0)
    after = _statistics_of(seeded_db, 2024)
    assert len(after) == len(before)
    others = ["variable", "price_base_year", "value", "unit", "status", "source"]
    untouched = after[~((after["variable"] == "gdp") & after["price_base_year"].isna())]
    expected = before[~((before["variable"] == "gdp") & before["price_base_year"].isna())]
    assert untouched[others].reset_index(drop=True).equals(expected[others].reset_index(drop=True))
    changed = after[(after["variable"] == "gdp") & after["price_base_year"].isna()]
    assert float(changed["value"].iloc[0]) == corrected


def test_mode_years_is_explicit_and_its_preview_lists_every_row_it_would_close(seeded_db):
    before = _statistics_of(seeded_db, 2024)
    line = b"year,region,variable,value,unit\n2024,210200,population,1.0,10^4 person\n"
    batch = service.upload_batch(seeded_db, ANALYST, filename="pop.csv", content=line, mode="years")
    others = before[~((before["variable"] == "population") & before["price_base_year"].isna())]
    assert batch.preview.mode == "years" and batch.preview.closed == len(others) > 0
    closing = {json.loads(c.key)[2] for c in batch.preview.closing}
    assert closing == set(others["variable"])
    assert all(c.year == 2024 and c.region == "210200" for c in batch.preview.closing)
    fresh = service.get_batch(seeded_db, ANALYST, batch.id).preview_now
    assert fresh is not None and len(fresh.closing) == len(others)
    approval = service.approve_batch(seeded_db, ADMIN, batch.id, reason="whole year")
    assert approval.closed == len(others)
    assert len(_statistics_of(seeded_db, 2024)) == 1


def test_an_unknown_mode_or_kind_is_refused_naming_the_nearest(sqlite_db):
    content = _csv([_toy_row(import_tables()["forest"])])
    with pytest.raises(InputError) as caught:
        service.upload_batch(sqlite_db, ANALYST, filename="f.csv", content=content, mode="year")
    assert caught.value.first.suggestion == "years"
    with pytest.raises(InputError) as caught:
        service.upload_batch(sqlite_db, ANALYST, filename="f.csv", content=content, kind="forrest")
    assert caught.value.first.suggestion == "forest"


def test_import_file_uploads_and_approves_with_progress_and_refuses_a_non_admin_first(sqlite_db):
    reports: list[tuple] = []
    content = _csv([_toy_row(import_tables()["wetland"])])
    done = service.import_file(sqlite_db, ADMIN, filename="w.csv", content=content, approve=True, reason="r",
                               progress=lambda d, t, label="": reports.append((d, t, label)))
    assert done.batch.status == "approved" and done.approval is not None and done.approval.inserted == 1
    assert reports[-1][:2] == (2, 2)
    with pytest.raises(Forbidden):
        service.import_file(sqlite_db, ANALYST, filename="w.csv", content=content, approve=True)


def test_cli_data_import_with_approve(sqlite_db, tmp_path):
    spec = import_tables()["capacity"]
    path = tmp_path / "capacity.csv"
    path.write_bytes(_csv([_toy_row(spec)]))
    runner = CliRunner()
    refused = runner.invoke(app, ["data", "import", str(path), "--dataset", "capacity", "--approve"])
    assert refused.exit_code == 2 and "reason" in refused.output
    result = runner.invoke(app, ["data", "import", str(path), "--dataset", "capacity", "--approve", "--reason",
                                 "2030 plan", "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["batch"]["status"] == "approved" and answer["ledger"]["inserted"] == 1
    waiting = runner.invoke(app, ["data", "import", str(path), "--mode", "years", "--format", "json"])
    assert waiting.exit_code == 0, waiting.output
    batch = json.loads(waiting.stdout)["batch"]
    assert batch["status"] == "validated" and batch["mode"] == "years" and answer["ledger"] is not None
    # the default source names the batch, so the same row from a new batch is a new version of its source
    assert batch["preview"]["changed"] == 1 and batch["preview"]["closing"] == []


def test_a_filled_template_round_trips_through_the_import(sqlite_db):
    from openpyxl import load_workbook

    from citycarbon.services.templates import import_template

    template = import_template(["forest"])
    workbook = load_workbook(io.BytesIO(template.content))
    sheet = workbook[import_tables()["forest"].sheet_zh or "forest"]
    header = [c.value for c in sheet[1]]
    row = _toy_row(import_tables()["forest"])
    sheet.append([row.get(str(h).split(" (")[0]) for h in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    batch = service.upload_batch(sqlite_db, ANALYST, filename="森林.xlsx", content=buffer.getvalue())
    assert batch.status == "validated" and batch.kind == "forest", batch.problems
    assert service.approve_batch(sqlite_db, ADMIN, batch.id).inserted == 1


def test_district_energy_gdp_and_population_import_as_statistics_of_the_district(sqlite_db):
    content = (b"year,region,variable,value,unit\n2024,210211,energy_consumption,500,10^4 tce\n"
               b"2024,210211,gdp,1500,10^8 CNY\n2024,210211,population,120,10^4 person\n")
    district = Principal(3, "ganjingzi", "district", frozenset({GANJINGZI}))
    batch = service.upload_batch(sqlite_db, district, filename="甘井子区.csv", content=content)
    assert batch.status == "validated" and batch.kind == "statistics", batch.problems
    service.approve_batch(sqlite_db, ADMIN, batch.id, reason="区统计局")
    with sqlite_db.session() as session:
        frame = ledger.provenance_frame(session, "statistics", region=GANJINGZI)
    assert sorted(frame["variable"]) == ["energy_consumption", "gdp", "population"]
    assert set(frame["batch_id"].astype(int)) == {batch.id}


def test_cli_data_import_draws_its_bar_on_stderr_only(sqlite_db, tmp_path, monkeypatch):
    monkeypatch.setenv("CITYCARBON_PROGRESS", "always")
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "wetland.csv"
    path.write_bytes(_csv([_toy_row(import_tables()["wetland"])]))
    shown = CliRunner().invoke(app, ["data", "import", str(path), "--approve", "--reason", "r", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert "导入 / import wetland.csv" in shown.stderr and "2/2" in shown.stderr
    assert json.loads(shown.stdout)["ledger"]["inserted"] == 1
