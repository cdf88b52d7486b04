"""``citycarbon factors list|show`` through the Typer app (CliRunner): json, csv, table, filters, errors."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.factors import COLUMNS, load_factors

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["factors", *args])


def test_list_json_has_every_row_with_all_columns():
    result = invoke("list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["factors", "count"]
    assert document["count"] == len(document["factors"]) == len(load_factors())
    assert all(list(row) == list(COLUMNS) for row in document["factors"])
    ids = [row["factor_id"] for row in document["factors"]]
    assert len(set(ids)) == len(ids)


def test_list_filters_by_kind_set_status_and_key():
    result = invoke("list", "--kind", "grid_ef", "--factor-set", "mee_nbs_electricity", "--status", "official",
                    "--key", "electricity", "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["factors"]
    assert rows and all(r["kind"] == "grid_ef" and r["status"] == "official" for r in rows)
    northeast = {r["data_year"]: r["value"] for r in rows if r["region"] == "northeast"}
    assert northeast == {2023: 0.5122}  # 2021 and 2022 Northeast values are V* (secondary)
    assert all(isinstance(r["year_from"], int) for r in rows)


def test_list_csv_and_table():
    result = invoke("list", "--key", "electricity", "--kind", "standard_coal", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    records = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["factor_id"], r["value"], r["unit"]) for r in records] == [
        ("gbt2589.electricity", "0.1229", "kgce/kWh")]
    table = invoke("list", "--kind", "coal_rate", "--key", "thermal_power_supply")
    assert table.exit_code == 0, table.stderr
    for text in ("cec.supply.2022", "300.70", "gce/kWh", "unverified", "estimate", "years"):
        assert text in table.stdout


def test_list_unknown_filter_fails_with_suggestion():
    result = invoke("list", "--kind", "grid_eff")
    assert result.exit_code == 2
    assert "field 'kind'" in result.stderr and "did you mean 'grid_ef'" in result.stderr


def test_show_one_factor():
    result = invoke("show", "gbt2589.electricity", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["factor"]["value"] == 0.1229 and document["factor"]["flag"] == "V"
    assert document["file"].endswith("standard_coal.csv")
    table = invoke("show", "mee_nbs.northeast.2023")
    assert table.exit_code == 0 and "0.5122" in table.stdout and "公告" not in table.stderr


def test_show_unknown_id_exits_2_with_nearest_id():
    result = invoke("show", "gbt2589.electricty")
    assert result.exit_code == 2
    assert "did you mean 'gbt2589.electricity'" in result.stderr


def test_extra_office_file_replaces_a_shipped_row(tmp_path):
    path = tmp_path / "office.csv"
    shipped = load_factors().row("mee_nbs.liaoning.2022").to_dict()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerow({k: ("" if v is None else v) for k, v in {**shipped, "value": 0.55}.items()})
    result = invoke("show", "mee_nbs.liaoning.2022", "--extra", str(path), "-f", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["factor"]["value"] == 0.55 and document["file"] == str(path)
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(COLUMNS) + "\nx,grid_ef,s,electricity,,abc,t/MWh,,,,src,,official,V,\n",
                   encoding="utf-8")
    failed = invoke("list", "--extra", str(bad))
    assert failed.exit_code == 2 and "row 2, field 'value'" in failed.stderr  # the header is row 1
