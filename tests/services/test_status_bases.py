"""Status on both CO2 bases (issue 13 item 5), on the Dalian reference data: relations, not values (the dataset
is being recalibrated). Every CO2 and peak target carries ``bases``; the peak and neutrality targets are
rated on the worse basis and say which decided; neutrality is never 三级 above zero; the CLI's JSON, the
service and the headline agree."""

from __future__ import annotations

import json

import pytest

from citycarbon.accounting import AccountingOptions
from citycarbon.services.accounting import account_city
from citycarbon.services.tracking import city_data, status_report
from citycarbon.tracking.peak import BASES, CO2_SERIES, judge_peak, load_peak_rule

YEAR = 2024


@pytest.fixture(scope="module")
def report() -> dict:
    return status_report(YEAR, source="files")


def test_every_co2_and_peak_target_carries_both_bases(report):
    co2 = [t for t in report["targets"] if t["indicator"] in ("co2_peak_year", "net_co2_emissions_t",
                                                              "co2_intensity_reduction", "co2_emissions_t")]
    assert {t["indicator"] for t in co2} >= {"co2_peak_year", "net_co2_emissions_t"}
    for row in co2:
        assert set(row["bases"]) == set(BASES)
        for entry in row["bases"].values():
            assert {"actual", "actual_year", "level", "level_name_zh", "reason"} <= set(entry)
    others = [t for t in report["targets"] if t["indicator"] in ("non_fossil_share", "forest_coverage")]
    assert others and all("bases" not in t for t in others)


def test_bases_are_the_accounting_services_figures(report):
    # the profile's basis is the accounting result; the other basis is the same engine with only the basis changed
    data = city_data("dalian")
    assert data.basis == AccountingOptions.for_city("dalian").electricity_co2_basis
    result = account_city(YEAR, source="files")
    side = report["co2_bases"]
    assert side[data.basis]["co2_emissions_t"] == pytest.approx(result.indicators["co2_emissions_t"])
    assert set(side) == set(BASES)
    for basis in BASES:
        values = side[basis]
        assert values["year"] == YEAR
        # net = gross − sinks, with the same sink on both bases
        sink = data.series["sink_co2_t"][YEAR]
        assert values["net_co2_emissions_t"] == pytest.approx(values["co2_emissions_t"] - sink)
    # Dalian is a net exporter of electricity (Hongyanhe): the net-inflow rule deducts the outflow
    assert side["consumption"]["co2_emissions_t"] > side["net_inflow"]["co2_emissions_t"]


def test_peak_is_rated_on_the_worse_basis_and_says_so(report):
    peak = next(t for t in report["targets"] if t["indicator"] == "co2_peak_year")
    levels = {b: e["level"] for b, e in peak["bases"].items()}
    assert peak["basis_rule"] == "worse"
    assert peak["level"] == min(v for v in levels.values() if v is not None)
    assert peak["bases"][peak["deciding_basis"]]["level"] == peak["level"]
    assert "判定" in peak["basis_note_zh"] and "rated on" in peak["basis_note_en"]
    rule = load_peak_rule()
    data = city_data("dalian")
    for basis, entry in peak["bases"].items():
        expected = judge_peak(data.bases[basis]["co2_emissions_t"], rule, basis=basis, upto=YEAR)
        assert entry["peak"]["peak_year"] == expected.peak_year
        assert entry["peak"]["plateau_years"] == list(expected.plateau_years)
        assert entry["peak"]["trend"] == expected.trend
    # the headline every page shows is this row
    headline = report["headline"]["peak"]
    assert headline["deciding_basis"] == peak["deciding_basis"] and headline["level"] == peak["level"]
    assert headline["peak_year"] == peak["bases"][peak["deciding_basis"]]["peak"]["peak_year"]


def test_neutrality_is_never_level_3_above_zero(report):
    row = next(t for t in report["targets"] if t["indicator"] == "net_co2_emissions_t")
    for entry in row["bases"].values():
        verdict = entry["neutrality"]
        if not verdict["reached"]:
            assert entry["level"] != 3
    assert row["neutrality"]["reached"] == (row["projection"]["value"] <= 0)
    if not row["neutrality"]["reached"]:
        assert row["level"] in (1, 2)
    headline = report["headline"]["neutrality"]
    assert headline["reached"] == row["neutrality"]["reached"] and headline["level"] == row["level"]


def test_every_city_target_says_where_its_figure_comes_from(report):
    for row in report["targets"]:
        origin = row["origin"]
        assert origin is None or origin["origin"] in ("official", "reported", "estimated")
        if origin is not None:
            assert origin["sources"] and origin["year"] <= YEAR


def test_peak_rule_basis_from_the_profile():
    # a profile naming one basis: the peak is rated on it whatever the other says
    from dataclasses import replace

    data = replace(city_data("dalian"), basis_rule="net_inflow", memo={})
    report = status_report(YEAR, data=data)
    peak = next(t for t in report["targets"] if t["indicator"] == "co2_peak_year")
    assert peak["deciding_basis"] == "net_inflow" and peak["basis_rule"] == "net_inflow"
    assert peak["level"] == peak["bases"]["net_inflow"]["level"]


def test_status_is_remembered_per_data_version_and_not_shared_mutably(report):
    first = status_report(YEAR, source="files")
    first["targets"][0]["level"] = "changed"
    again = status_report(YEAR, source="files")
    assert again["targets"][0]["level"] != "changed"
    assert again == report


def test_cli_status_json_carries_the_bases():
    from typer.testing import CliRunner

    from citycarbon.cli import app

    result = CliRunner().invoke(app, ["status", "--year", str(YEAR), "--source", "files", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    rows = {t["id"]: t for t in document["targets"]}
    peak = next(t for t in rows.values() if t["indicator"] == "co2_peak_year")
    assert set(peak["bases"]) == set(BASES) and peak["deciding_basis"] in BASES
    assert set(document["co2_bases"]) == set(BASES)
    assert all(name in document["co2_bases"]["consumption"] for name in CO2_SERIES)
