"""The statistics bureau's district statistics (``district_statistics``) and the office's district assessment
targets (``district_assessment_targets``) go through the one import workflow: CSV and XLSX validate, a bad row
names file, row and field (with the nearest code), an approved batch lands in the ledger with its batch id, and
the tracking status report's districts then show the imported figure's origin."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from citycarbon.auth.principal import Principal
from citycarbon.services import imports as service
from citycarbon.store import ledger
from tests.db_fixtures import *  # noqa: F403

ADMIN = Principal(1, "admin", "admin")
ANALYST = Principal(2, "analyst", "analyst")

ROWS = [{"year": 2024, "region": "210211", "variable": "energy_consumption_tce", "value": 4.2e6, "unit": "tce",
         "status": "official", "source": "甘井子区统计局 2024年统计公报"},
        {"year": 2024, "region": "210211", "variable": "gdp_10k_yuan", "value": 1600.0, "unit": "10^8 CNY",
         "status": "official", "source": "甘井子区统计局 2024年统计公报"}]


def _csv(rows) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode()


def _xlsx(rows) -> bytes:
    out = io.BytesIO()
    pd.DataFrame(rows).to_excel(out, index=False, sheet_name="区县统计")
    return out.getvalue()


@pytest.mark.parametrize(("filename", "encode"), [("district_statistics.csv", _csv),
                                                  ("district_statistics.xlsx", _xlsx)])
def test_district_statistics_import_validates_and_lands_in_the_ledger(sqlite_db, filename, encode):
    batch = service.upload_batch(sqlite_db, ANALYST, filename=filename, content=encode(ROWS),
                                 kind="district_statistics")
    assert batch.status == "validated", batch.problems
    assert batch.preview.new == 2
    service.approve_batch(sqlite_db, ADMIN, batch.id, reason="区统计局数据")
    with sqlite_db.session() as session:
        frame = ledger.provenance_frame(session, "district_statistics", region="210211")
    energy = frame[frame["variable"] == "energy_consumption_tce"].iloc[0]
    assert energy["value"] == pytest.approx(4.2e6) and energy["status"] == "official"
    assert int(energy["batch_id"]) == batch.id


def test_a_bad_district_statistics_row_names_file_row_and_field(sqlite_db):
    rows = [dict(r) for r in ROWS]
    rows[1]["variable"] = "gdp_10k_yuna"
    rows[0]["unit"] = "t"  # energy in tonnes (mass), not tce
    batch = service.upload_batch(sqlite_db, ANALYST, filename="bad.csv", content=_csv(rows),
                                 kind="district_statistics")
    assert batch.status == "rejected"
    found = {(p.row, p.field): p for p in batch.problems}
    assert found[(3, "variable")].suggestion == "gdp_10k_yuan"
    assert (2, "unit") in found or (2, "value") in found
    assert all(p.file == "bad.csv" for p in batch.problems)


def test_an_office_district_target_imports_with_its_document(sqlite_db):
    rows = [{"year": 2024, "region": "210211", "indicator": "energy_intensity_annual_fall", "value": 2.8,
             "unit": "percent", "source": "大双碳办〔2024〕3号 | 2024-03-15 | 分解下达", "status": "official"}]
    batch = service.upload_batch(sqlite_db, ANALYST, filename="targets.csv", content=_csv(rows),
                                 kind="district_assessment_targets")
    assert batch.status == "validated", batch.problems
    service.approve_batch(sqlite_db, ADMIN, batch.id, reason="分解目标")
    with sqlite_db.session() as session:
        frame = ledger.current_frame(session, "district_assessment_targets")
    assert frame.iloc[0]["value"] == pytest.approx(2.8)
    assert frame.iloc[0]["source"].startswith("大双碳办〔2024〕3号")


def test_imported_gdp_in_another_unit_is_converted_and_shown_with_its_origin_in_the_status_report(sqlite_db):
    from citycarbon.services.sources import shipped_inputs
    from citycarbon.services.tracking import build_city_data, status_report

    batch = service.upload_batch(sqlite_db, ANALYST, filename="d.csv", content=_csv(ROWS), kind="district_statistics")
    service.approve_batch(sqlite_db, ADMIN, batch.id, reason="区统计局数据")
    with sqlite_db.session() as session:
        stats = ledger.provenance_frame(session, "district_statistics")
    inputs = shipped_inputs("dalian")
    data = build_city_data("dalian", inputs.dataset, None, inputs.districts, district_statistics=stats)
    entry = next(d for d in status_report(2024, data=data)["districts"] if d["region"] == "210211")
    assert entry["gdp_10k_yuan"] == pytest.approx(1.6e7)  # 1600 × 10^8 CNY
    assert entry["energy_consumption_tce"] == pytest.approx(4.2e6)
    assert entry["energy_intensity_tce_per_10k_yuan"] == pytest.approx(4.2e6 / 1.6e7)
    assert entry["origins"]["energy_consumption_tce"]["origin"] == "statistics"
    assert entry["origins"]["energy_consumption_tce"]["batch_id"] == batch.id
    assert entry["estimate"] is False
    other = next(d for d in status_report(2024, data=data)["districts"] if d["region"] == "210202")
    assert other["origins"]["energy_consumption_tce"]["origin"] == "shares" and other["estimate"] is True


def test_district_statistics_alone_without_shares_give_the_district_its_figures():
    from citycarbon.services.sources import shipped_inputs
    from citycarbon.services.tracking import build_city_data, status_report

    stats = pd.DataFrame([{**r, "value": r["value"] if r["unit"] == "tce" else 1600.0 * 1e4, "unit":
                           "tce" if r["unit"] == "tce" else "10^4 CNY", "batch_id": 3} for r in ROWS])
    inputs = shipped_inputs("dalian")
    data = build_city_data("dalian", inputs.dataset, None, None, district_statistics=stats)
    entries = status_report(2024, data=data)["districts"]
    assert [e["region"] for e in entries] == ["210211"]
    assert entries[0]["energy_intensity_tce_per_10k_yuan"] == pytest.approx(4.2e6 / 1.6e7)
    assert entries[0]["origins"]["gdp_10k_yuan"]["batch_id"] == 3
    assert status_report(2024, region="210211", data=data)["region"] == "210211"
