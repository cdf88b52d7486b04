"""Issue 16 "Done when", as a new user would, through the services every face calls: the office runs the 2024
assessment of the districts on the seeded Dalian store (real fact collectors: district accounting, tracking,
supervision, monitoring, the project gate), adjusts one qualitative item with a reason, publishes, and downloads
the city's report as PDF, DOCX and XLSX that a leader can read on paper (GB/T 9704 layout, CJK fonts embedded,
the same figures as ``citycarbon status --format json``, the published scores)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

from citycarbon.errors import Conflict
from citycarbon.services.assessment import runs
from citycarbon.services.reports import generate
from tests.reports.support import OFFICE, cli_status, status_value

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
                                reason="poppler-utils (pdftotext, pdffonts) not installed")
CITY = "dalian"
UNIT = "d210211"  # 甘井子区


def _pdf(content: bytes, tmp_path, tool: str, *args: str) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run([tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])], check=True,
                          capture_output=True, text=True).stdout


def test_done_when(seeded_db, tmp_path):
    from docx import Document
    from openpyxl import load_workbook

    # 1. the office runs the 2024 assessment of the districts and pilot zones
    run = runs.run_assessment(seeded_db, OFFICE, CITY, 2024, scheme="district")
    board = run.to_dict()
    rows = {row["unit_code"]: row for row in board["rows"]}
    assert len(rows) == 15 and board["run"]["state"] == "draft"
    assert all(rows[f"d{code}"]["estimate"] for code in ("210202", "210211", "210281"))  # district shares
    before = runs.unit_score(seeded_db, OFFICE, CITY, board["run"]["id"], UNIT).to_dict()
    items = {item["code"]: item for item in before["items"]}
    total = Decimal(rows[UNIT]["total"])
    assert total == sum(Decimal(item["points"]) for item in items.values())  # every point accounted for
    assert items["energy_intensity_annual"]["evidence"], "the intensity points name their figures"
    assert Decimal(items["organisation"]["points"]) == Decimal("8.00")  # the scheme's default

    # 2. one qualitative item adjusted with a reason: exactly +1.5 points
    after = runs.adjust(seeded_db, OFFICE, CITY, board["run"]["id"], UNIT, "organisation", points="9.5",
                        reason="领导小组按季度调度，责任清单完整", version=board["run"]["version"]).to_dict()
    adjusted = Decimal(next(i for i in after["items"] if i["code"] == "organisation")["points"])
    assert adjusted == Decimal("9.50")
    board = runs.get_run(seeded_db, OFFICE, CITY, board["run"]["id"]).to_dict()
    new_total = Decimal(next(r for r in board["rows"] if r["unit_code"] == UNIT)["total"])
    assert new_total == total + Decimal("1.50")

    # 3. published (early, with a note: the objection period is still open); frozen and reproducible
    published = runs.publish(seeded_db, OFFICE, CITY, board["run"]["id"], version=board["run"]["version"],
                             note="领导小组会议审定", early=True).to_dict()
    assert published["run"]["state"] == "published"
    with pytest.raises(Conflict):
        runs.adjust(seeded_db, OFFICE, CITY, board["run"]["id"], UNIT, "organisation", points="10",
                    reason="再调整", version=published["run"]["version"])
    assert runs.reproduce(seeded_db, OFFICE, CITY, board["run"]["id"])["same"] is True

    # 4. the city's report as PDF, DOCX and XLSX
    status = cli_status(2024)
    files = {fmt: generate.build_report(seeded_db, OFFICE, CITY, 2024, fmt) for fmt in ("pdf", "docx", "xlsx")}
    assert len({f.inputs_hash for f in files.values()}) == 1
    name_zh = next(r["unit_name_zh"] for r in board["rows"] if r["unit_code"] == UNIT)
    text = re.sub(r"\s+", "", _pdf(files["pdf"].content, tmp_path, "pdftotext", "-layout"))
    assert "关于2024年碳达峰碳中和工作贯彻落实情况的报告" in text and "—1—" in text
    assert f"非化石能源消费比重{status_value(status, 'non_fossil_share') * 100:.2f}%" in text
    assert f"森林覆盖率{status_value(status, 'forest_coverage') * 100:.2f}%" in text
    assert name_zh in text and f"{new_total:.2f}" in text  # the published, adjusted score
    fonts = _pdf(files["pdf"].content, tmp_path, "pdffonts").splitlines()[2:]
    assert any("CJK" in line and " yes " in f" {line} " for line in fonts), fonts
    document = Document(io.BytesIO(files["docx"].content))
    paragraphs = [p.text for p in document.paragraphs]
    assert "关于2024年碳达峰碳中和工作贯彻落实情况的报告" in paragraphs
    assert any(name_zh in cell.text for table in document.tables for row in table.rows for cell in row.cells)
    book = load_workbook(io.BytesIO(files["xlsx"].content))
    ranking = [[c.value for c in row] for row in book["考核结果"].iter_rows()]
    assert any(row[1] == name_zh and row[2] == pytest.approx(float(new_total)) for row in ranking if len(row) > 2)
