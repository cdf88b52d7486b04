"""Registry import: validation errors name file, row and field; tiers; Excel; round trip."""

from __future__ import annotations

import pandas as pd
import pytest

from citycarbon.errors import InputError
from citycarbon.monitoring.registry import load_registry, registry_dir, tce_factors, tier_for
from tests.monitoring.conftest import tiny_registry_frames, valid_uscc


def write_folder(tmp_path, frames):
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    return tmp_path


def test_valid_registry_loads_and_answers_lookups(tmp_path):
    registry = load_registry(write_folder(tmp_path, tiny_registry_frames()))
    assert registry.enterprise_of("P-SUB1") == "ENT1"
    assert registry.point("P-GAS")["energy_type"] == "natural_gas"
    assert list(registry.points_of("ENT1")["point_id"]) == ["P-MAIN", "P-SUB1", "P-SUB2", "P-GAS"]
    assert registry.canonical_units()["P-GAS"] == "m**3"
    assert registry.timezone == "Asia/Shanghai"
    with pytest.raises(KeyError, match="did you mean 'P-SUB1'"):
        registry.point("P-SUB7")


def test_round_trip_through_write(tmp_path):
    registry = load_registry(tiny_registry_frames())
    again = load_registry(registry.write(tmp_path / "reg"))
    pd.testing.assert_frame_equal(again.points, registry.points)
    pd.testing.assert_frame_equal(again.enterprises, registry.enterprises)


def test_bad_uscc_names_file_row_field(tmp_path):
    frames = tiny_registry_frames()
    frames["enterprises"].loc[0, "uscc"] = "91210211MA0TE7T01X"
    with pytest.raises(InputError) as error:
        load_registry(write_folder(tmp_path, frames))
    problem = error.value.first
    assert (problem.file, problem.row, problem.field) == ("enterprises.csv", 2, "uscc")  # the header is row 1
    assert "check character" in problem.message


def test_unknown_codes_get_suggestions(tmp_path):
    frames = tiny_registry_frames()
    frames["enterprises"].loc[0, "industry_code"] = "3012"
    frames["points"].loc[3, "energy_type"] = "natural_gaz"
    frames["points"].loc[2, "parent_point_id"] = "P-MAIM"
    with pytest.raises(InputError) as error:
        load_registry(write_folder(tmp_path, frames))
    by_field = {p.field: p for p in error.value.problems}
    assert by_field["industry_code"].suggestion == "3011"
    assert (by_field["energy_type"].file, by_field["energy_type"].row) == ("points.csv", 5)
    assert by_field["energy_type"].suggestion == "natural_gas"
    assert by_field["parent_point_id"].suggestion == "P-MAIN"


@pytest.mark.parametrize(("field", "value", "words"), [
    ("unit", "m**3", "does not measure electricity"),
    ("kind", "interva", "kind must be"),
    ("interval_minutes", 20, "interval_minutes must be"),
    ("multiplier", 0.5, "must be ≥ 1"),
    ("parent_point_id", "P-GAS", "another energy type"),
    ("purpose", "product:NOPE", "not a product"),
])
def test_point_problems(field, value, words):
    frames = tiny_registry_frames()
    frames["points"][field] = frames["points"][field].astype(object)
    frames["points"].loc[1, field] = value
    with pytest.raises(InputError) as error:
        load_registry(frames)
    problem = next(p for p in error.value.problems if p.field == field)
    assert problem.row == 3 and words in problem.message  # frame row 1: sheet row 3


def test_region_and_tier_rules():
    frames = tiny_registry_frames()
    frames["enterprises"].loc[0, "region"] = "210299"
    frames["enterprises"]["annual_energy_tce"] = [8000.0]
    with pytest.raises(InputError) as error:
        load_registry(frames)
    fields = {p.field for p in error.value.problems}
    assert {"region", "tier"} <= fields


def test_tier_rule_thresholds():
    assert tier_for(10_000) == 1
    assert tier_for(9_999.9) is None
    assert tier_for(9_999.9, designated=True) == 2
    assert tier_for(5_000, designated=True) == 2
    assert tier_for(4_999, designated=True) is None


def test_tier_derived_from_annual_energy():
    frames = tiny_registry_frames()
    frames["enterprises"]["tier"] = [None]
    frames["enterprises"]["annual_energy_tce"] = [12_000.0]
    assert load_registry(frames).enterprises.loc[0, "tier"] == 1


def test_excel_workbook_names_sheet(tmp_path):
    frames = tiny_registry_frames()
    frames["enterprises"].loc[0, "uscc"] = "bad"
    path = tmp_path / "registry.xlsx"
    with pd.ExcelWriter(path) as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    with pytest.raises(InputError) as error:
        load_registry(path)
    assert error.value.first.file == "registry.xlsx[enterprises]"
    assert error.value.first.row == 2  # the sheet's header is row 1


def test_product_limit_filled_from_data_file():
    frames = tiny_registry_frames()
    frames["products"] = pd.DataFrame([{"product_id": "CL", "enterprise_id": "ENT1", "name": "熟料", "unit": "t",
                                        "product_type": "cement_clinker"}])
    frames["points"].loc[0, "purpose"] = "product:CL"
    registry = load_registry(frames)
    row = registry.products.iloc[0]
    assert (row["limit_value"], row["limit_unit"]) == (117.0, "kgce/t")
    assert "723" in row["limit_standard"]


def test_missing_column_is_named():
    frames = tiny_registry_frames()
    frames["points"] = frames["points"].drop(columns="kind")
    with pytest.raises(InputError, match="missing column 'kind'"):
        load_registry(frames)


def test_duplicate_ids_and_cycles():
    frames = tiny_registry_frames()
    frames["points"].loc[0, "parent_point_id"] = "P-SUB1"
    frames["enterprises"] = pd.concat([frames["enterprises"]] * 2, ignore_index=True)
    with pytest.raises(InputError) as error:
        load_registry(frames)
    messages = " | ".join(p.message for p in error.value.problems)
    assert "duplicate enterprise_id" in messages and "loops back" in messages


def test_tce_factors_follow_gbt2589():
    factors = tce_factors()
    assert factors.loc["electricity", "tce_per_unit"] == pytest.approx(0.1229e-3)
    assert factors.loc["natural_gas", "tce_per_unit"] == pytest.approx(1.33e-3)


def test_registry_dir_under_home(tmp_path):
    assert registry_dir(tmp_path) == tmp_path / "monitoring" / "registry"


def test_uscc_helper_is_valid():
    assert len(valid_uscc()) == 18
