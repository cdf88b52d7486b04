"""The city's report as PDF and XLSX: the PDF's text (pdftotext) holds the same figures as ``citycarbon status
--format json`` for that year and embeds a CJK font (pdffonts); the XLSX annex holds every table with units in the
headers and the provenance sheet; one content build renders all three formats with one inputs hash."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest

from citycarbon.services.reports import generate
from tests.reports.support import OFFICE, cli_status, publish_run, status_value

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")


def _pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return re.sub(r"\s+", "", text)


def test_pdf_and_xlsx_hold_the_status_figures(seeded_db, tmp_path):
    from openpyxl import load_workbook

    publish_run(seeded_db)
    status = cli_status(2024)
    files = generate._build_many(seeded_db, OFFICE, "dalian", 2024, ["docx", "pdf", "xlsx"])
    assert [f.info.format for f in files] == ["docx", "pdf", "xlsx"]
    assert len({f.inputs_hash for f in files}) == 1 and len({f.info.ledger_version for f in files}) == 1
    pdf = next(f for f in files if f.info.format == "pdf")
    assert pdf.content.startswith(b"%PDF") and pdf.media_type == "application/pdf"
    text = _pdf_text(pdf.content, tmp_path)
    assert "关于2024年碳达峰碳中和工作贯彻落实情况的报告" in text
    net = status["co2_bases"]["net_inflow"]["co2_emissions_t"]
    cons = status["co2_bases"]["consumption"]["co2_emissions_t"]
    for figure in (f"净调入电力口径为{net / 1e4:.2f}万吨", f"电力消费口径为{cons / 1e4:.2f}万吨",
                   f"累计下降{status_value(status, 'energy_intensity_reduction') * 100:.2f}%",
                   f"非化石能源消费比重{status_value(status, 'non_fossil_share') * 100:.2f}%",
                   f"森林覆盖率{status_value(status, 'forest_coverage') * 100:.2f}%",
                   f"风电、光伏装机{status_value(status, 'wind_solar_capacity_mw') / 10:.2f}万千瓦"):
        assert figure in text, figure
    assert "中山区" in text and "91.50" in text  # the published ranking
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf.content)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines()[2:] if "CJK" in line or "Noto" in line]
    assert cjk and all(" yes " in f" {line} " for line in cjk)  # embedded

    xlsx = next(f for f in files if f.info.format == "xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    names = book.sheetnames
    assert "目标进度与预警" in names and "分品种能源消费" in names and "考核结果" in names
    sheet = book["排放两种口径"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(r for r in rows if r and r[0] == "口径")
    assert header[1] == "二氧化碳排放量（万吨）"
    consumption = next(r for r in rows if r and r[0] == "电力消费口径")
    assert consumption[1] == pytest.approx(round(cons / 1e4, 2))
    provenance = "\n".join(str(c.value) for row in book[names[-1]].iter_rows() for c in row if c.value)
    assert "台账版本" in provenance and "核算方法" in provenance
