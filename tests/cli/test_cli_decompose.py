"""``citycarbon decompose`` through the Typer app (CliRunner): json, csv, table, chain, explicit years, errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from citycarbon.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lmdi"
CITY = str(FIXTURES / "city_small.csv")
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["decompose", *args])


def test_decompose_json_chain_has_one_period_per_consecutive_pair():
    result = invoke("--input", CITY, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["periods"]
    periods = document["periods"]
    assert [(p["from"], p["to"]) for p in periods] == [(2015, 2016), (2016, 2017)]
    first = periods[0]
    assert list(first) == ["from", "to", "total_change", "ratio", "additive", "multiplicative", "by_category"]
    # golden values of the worked example in test_lmdi.py (Ang 2005, Table 1 formulae, by hand)
    assert first["total_change"] == pytest.approx(25.0, abs=1e-12)
    assert first["additive"]["activity"] == pytest.approx(61.637119, abs=5e-7)
    assert first["additive"]["structure"] == pytest.approx(-17.715765, abs=5e-7)
    assert first["multiplicative"]["intensity"] == pytest.approx(0.883068, abs=5e-7)
    assert set(first["by_category"]) == {"industry", "services"}
    # E(2017) = 160·(0.45·1.7 + 0.55·0.42) = 159.36; the chain's effects add to E(2017) − E(2015)
    total = sum(sum(p["additive"].values()) for p in periods)
    assert total == pytest.approx(160 * (0.45 * 1.7 + 0.55 * 0.42) - 140, rel=1e-12)


def test_decompose_json_explicit_years_is_one_direct_period():
    result = invoke("--input", CITY, "--from", "2017", "--to", "2015", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (period,) = json.loads(result.stdout)["periods"]
    assert (period["from"], period["to"]) == (2017, 2015)
    assert period["ratio"] == pytest.approx(140 / (160 * (0.45 * 1.7 + 0.55 * 0.42)), rel=1e-12)


def test_decompose_csv_long_rows():
    result = invoke("--input", CITY, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns) == ["from", "to", "factor", "additive_effect", "multiplicative_index"]
    assert len(frame) == 2 * 3
    row = frame[(frame["from"] == 2015) & (frame["factor"] == "activity")].iloc[0]
    assert row["additive_effect"] == pytest.approx(61.637119, abs=5e-7)
    assert row["multiplicative_index"] == pytest.approx(1.499432, abs=5e-7)


def test_decompose_table_shows_factors_per_period():
    result = invoke("--input", CITY, "--from", "2015", "--to", "2016")
    assert result.exit_code == 0, result.stderr
    for text in ("2015→2016", "activity", "structure", "intensity", "(total)", "61.64", "25.00"):
        assert text in result.stdout


@pytest.mark.parametrize(("fixture", "message"), [
    ("negative_value.csv", "row 9, field 'value': negative value -1.8 (year 2016, category 'industry', "
                           "factor 'intensity')"),
    ("duplicate_row.csv", "duplicate row"),
    ("missing_combination.csv", "missing value for year 2016, category 'services', factor 'intensity'"),
    ("wrong_columns.csv", "missing column 'category'"),
    ("does_not_exist.csv", "file not found"),
])
def test_decompose_bad_input_exits_2_with_error_on_stderr(fixture, message):
    result = invoke("--input", str(FIXTURES / fixture), "--format", "json")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_decompose_needs_both_years_or_none():
    result = invoke("--input", CITY, "--from", "2015")
    assert result.exit_code == 2
    assert "give both --from and --to" in result.stderr


def test_decompose_unknown_year_suggests_nearest():
    result = invoke("--input", CITY, "--from", "2015", "--to", "2019", "--format", "csv")
    assert result.exit_code == 2
    assert "year 2019 is not in the data" in result.stderr
    assert "did you mean '2017'" in result.stderr
