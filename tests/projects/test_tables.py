"""The project gate's shipped tables load, carry their documents and flags, and a bad row is named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from citycarbon.data import data_path
from citycarbon.errors import InputError
from citycarbon.projects.tables import (
    RegionClass,
    Verification,
    load_benchmarks,
    load_energy_review,
    load_lianggao,
    load_region_classes,
    load_replacement,
    load_tables,
)


def test_shipped_tables_load_with_documents_and_flags() -> None:
    tables = load_tables()
    clinker = [b for b in tables.benchmarks if b.product == "cement_clinker"]
    assert [(b.benchmark, b.baseline, b.status) for b in clinker] == [(100, 117, Verification.secondary)]
    ferrosilicon = {b.edition: b.baseline for b in tables.benchmarks if b.product == "ferrosilicon"}
    assert ferrosilicon == {2021: 1900, 2023: 1850}
    assert all(b.document == "发改产业〔2023〕723号" for b in tables.benchmarks if b.edition == 2023)
    steel = [r for r in tables.replacement if r.sector == "steel"]
    assert {(r.region_class, r.ratio) for r in steel} == {(RegionClass.key, 1.5), (RegionClass.other, 1.25)}
    assert all(r.paused_from == date(2024, 8, 23) for r in steel)
    assert [(r.region_prefix, r.region_class, r.document) for r in tables.region_classes] == [
        ("21", RegionClass.other, "国发〔2023〕24号")]
    assert set(tables.lianggao.divisions) == {"C25", "C26", "C30", "C31", "C32", "D44"}
    assert len(tables.lianggao.categories) == 6
    editions = {e.id: e for e in tables.energy_review.editions}
    assert editions["ndrc_2025_31"].in_force_from == date(2025, 9, 1)
    assert editions["ndrc_2025_31"].supersedes == "ndrc_2023_2"
    assert "令2025年第31号" in editions["ndrc_2025_31"].document
    assert editions["ndrc_2023_2"].in_force_to == date(2025, 8, 31)
    # every threshold of the 31号令 edition is flagged unverified (its full text was not seen)
    assert all(lv.status is Verification.unverified for lv in editions["ndrc_2025_31"].levels)
    provincial = next(lv for lv in editions["ndrc_2023_2"].levels if lv.level == "provincial")
    assert provincial.tce_at_least == 10000 and provincial.status is Verification.provisional


def _copy_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = data_path(f"projects/{name}").read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / name
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def _row_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if needle in line)


def test_bad_benchmark_number_names_file_row_and_field(tmp_path: Path) -> None:
    path = _copy_with(tmp_path, "efficiency_benchmarks.csv", "cement_clinker,水泥熟料,kgce/t,100,117",
                      "cement_clinker,水泥熟料,kgce/t,abc,117")
    with pytest.raises(InputError) as err:
        load_benchmarks(path)
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.field) == ("efficiency_benchmarks.csv",
                                                          _row_of(path, "cement_clinker"), "benchmark")
    assert problem.row == 6  # 4 banner lines + the header


def test_benchmark_worse_than_baseline_is_refused(tmp_path: Path) -> None:
    path = _copy_with(tmp_path, "efficiency_benchmarks.csv", "ethylene,乙烯,kgoe/t,590,640",
                      "ethylene,乙烯,kgoe/t,690,640")
    with pytest.raises(InputError) as err:
        load_benchmarks(path)
    assert (err.value.problems[0].row, err.value.problems[0].field) == (_row_of(path, "ethylene,"), "benchmark")


def test_bad_status_and_region_class_are_named(tmp_path: Path) -> None:
    path = _copy_with(tmp_path, "capacity_replacement.csv", "steel,钢铁,other,1.25", "steel,钢铁,elsewhere,1.25")
    with pytest.raises(InputError) as err:
        load_replacement(path)
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.field) == ("capacity_replacement.csv",
                                                          _row_of(path, "steel,钢铁,elsewhere"), "region_class")
    path = _copy_with(tmp_path, "capacity_region_classes.csv", "国发〔2023〕24号,V*?", "国发〔2023〕24号,maybe")
    with pytest.raises(InputError) as err:
        load_region_classes(path)
    assert (err.value.problems[0].row, err.value.problems[0].field) == (_row_of(path, "辽宁省"), "status")


def test_zero_ratio_is_refused(tmp_path: Path) -> None:
    path = _copy_with(tmp_path, "capacity_replacement.csv", "cement,水泥熟料,key,2.0,2021-08-01",
                      "cement,水泥熟料,key,0,2021-08-01")
    with pytest.raises(InputError) as err:
        load_replacement(path)
    assert err.value.problems[0].field == "ratio"


def test_bad_yaml_fields_are_named_by_path(tmp_path: Path) -> None:
    path = _copy_with(tmp_path, "energy_review.yaml", "in_force_to: 2025-08-31", "in_force_to: 2025-09-30")
    with pytest.raises(InputError) as err:
        load_energy_review(path)
    assert "overlaps" in err.value.problems[0].message and err.value.problems[0].file == "energy_review.yaml"
    path = _copy_with(tmp_path, "energy_review.yaml", "tce_at_least: 10000", "tce_at_least: lots")
    with pytest.raises(InputError) as err:
        load_energy_review(path)
    assert err.value.problems[0].field == "editions[0].levels[1].tce_at_least"
    path = _copy_with(tmp_path, "lianggao.yaml", "{code: C31,", "{code: 31,")
    with pytest.raises(InputError) as err:
        load_lianggao(path)
    assert err.value.problems[0].field == "industry_divisions.divisions[3].code"
