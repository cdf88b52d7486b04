"""``citycarbon status`` on the shipped Dalian dataset: JSON contract, overrides, nowcast back-test, districts."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.errors import InputError
from citycarbon.services.tracking import city_data, nowcast_backtest, status_report
from citycarbon.tracking.districts import decompose_to_districts, roll_up_districts

runner = CliRunner()
KEYS = {"id", "indicator", "target_year", "target_value", "actual", "required_annual_rate", "time_elapsed_share",
        "progress_share", "projection", "level", "reason", "title_zh", "title_en", "unit", "colour", "reason_en", "met"}


def test_status_json_contract():
    result = runner.invoke(app, ["status", "--year", "2024", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["year"] == 2024
    ids = [t["id"] for t in report["targets"]]
    assert "non_fossil_share_2025" in ids and "co2_peak_2030" in ids
    for row in report["targets"]:
        assert set(row) >= KEYS
        assert set(row["projection"]) >= {"value", "low", "high"}
        assert row["level"] in (1, 2, 3, None)
        assert row["reason"] and row["reason_en"]
    unset = next(t for t in report["targets"] if t["id"] == "energy_intensity_reduction_2025")
    assert unset["target_value"] is None and (unset["level"] == 1 or "待省政府下达" in unset["reason"])
    assert len(report["districts"]) == 10


def test_status_table_and_csv():
    table = runner.invoke(app, ["status", "--year", "2024"])
    assert table.exit_code == 0 and "non_fossil" in table.output
    csv = runner.invoke(app, ["status", "--year", "2024", "--format", "csv"])
    assert csv.exit_code == 0 and csv.output.splitlines()[0].startswith("id,title_zh,target_year")


def test_targets_override_fills_unset_values(tmp_path):
    path = tmp_path / "targets.yaml"
    # Liaoning's 2025 allocation 14.5 % (methods.md §8.2, V, two sources disagree: 14 %/14.5 %)
    path.write_text("energy_intensity_reduction_2025: 14.5%\nco2_intensity_reduction_2025: 0.18\n", encoding="utf-8")
    report = status_report(2024, targets_file=path)
    row = next(t for t in report["targets"] if t["id"] == "energy_intensity_reduction_2025")
    assert row["target_value"] == pytest.approx(0.145)
    assert row["level"] in (1, 2, 3)
    assert row["progress_share"] == pytest.approx(row["actual"] / 0.145)
    district = report["districts"][0]["targets"][0]
    assert district["target_value"] is not None


def test_targets_override_errors(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("energy_intensity_reduction_2052: 0.145\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        status_report(2024, targets_file=path)
    assert error.value.first.suggestion == "energy_intensity_reduction_2025"
    assert error.value.first.file == "targets.yaml"
    path.write_text("non_fossil_share_2025: lots\n", encoding="utf-8")
    with pytest.raises(InputError, match="must be a number"):
        status_report(2024, targets_file=path)
    result = runner.invoke(app, ["status", "--year", "2024", "--targets", str(path)])
    assert result.exit_code == 2 and "non_fossil_share_2025" in result.output


def test_status_bad_region_and_month():
    with pytest.raises(InputError) as error:
        status_report(2024, region="210299")
    assert error.value.first.field == "region"
    with pytest.raises(InputError):
        status_report(2024, month=13)


def test_region_report_is_the_district():
    report = status_report(2024, region="210211")
    assert report["region_name_zh"] == "甘井子区"
    assert {t["id"] for t in report["targets"]} == {"energy_intensity_reduction_2025", "co2_intensity_reduction_2025"}


def test_nowcast_status_and_backtest_error():
    report = status_report(2024, month=6)
    assert report["nowcast"]["month"] == 6
    energy = report["nowcast"]["indicators"]["energy_consumption_tce"]
    assert energy["low"] < energy["value"] < energy["high"]
    backtest = nowcast_backtest("dalian", 6)["summary"]
    # half-year nowcast of total energy within 5 % on average and electricity within 3 % (estimated monthly data)
    assert backtest["energy_consumption_tce"]["mape"] < 0.05
    assert backtest["electricity_consumption_kwh"]["mape"] < 0.03
    assert backtest["energy_consumption_tce"]["years"] >= 5


def test_district_roll_up_sums_to_the_city():
    data = city_data("dalian")
    rolled = roll_up_districts(decompose_to_districts(data.series, data.districts))
    for name in ("energy_consumption_tce", "gdp_10k_yuan", "co2_energy_t", "energy_intensity_tce_per_10k_yuan"):
        for year in data.years:
            assert rolled[name][year] == pytest.approx(data.series[name][year], rel=1e-9)
    report = status_report(2024)
    total = sum(d["energy_consumption_tce"] for d in report["districts"])
    assert total == pytest.approx(data.series["energy_consumption_tce"][2024], rel=1e-9)
