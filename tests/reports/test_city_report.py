"""The city's yearly report on SQLite and PostgreSQL: the DOCX reads back with the status figures, the same
ledger version regenerates the same figures and inputs hash, the narrative edit is audited and printed, the
published assessment is shown, and scope holds (another unit's report answers 404)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from citycarbon.errors import Conflict, Forbidden, InputError, NotFound
from citycarbon.services.reports import content, generate, narratives, units
from citycarbon.store.models import AuditEntry
from tests.reports.support import (
    DISTRICT,
    ENTERPRISE,
    MIIT,
    OFFICE,
    VIEWER,
    cli_status,
    docx_text,
    publish_run,
    status_value,
)


def test_docx_holds_the_status_figures_and_regenerates_the_same(seeded_db):
    status = cli_status(2024)
    first = generate.build_report(seeded_db, OFFICE, "dalian", 2024, "docx")
    paragraphs, tables = docx_text(first.content)
    text = "\n".join(paragraphs)
    assert "大连市碳达峰碳中和工作领导小组办公室" in paragraphs[0]
    assert "关于2024年碳达峰碳中和工作贯彻落实情况的报告" in text and "市委、市政府：" in text
    assert "大碳达峰办〔2025〕N号" in text  # the placeholder the office edits
    for heading in ("一、总体情况", "二、能源消费和碳排放", "三、碳汇", "四、重点用能单位在线监测",
                    "五、重点任务推进情况", "六、项目节能审查", "七、考核结果", "八、存在的问题", "九、下一年工作安排",
                    "附件　数据来源和方法说明"):
        assert heading in paragraphs, heading
    # the text states the status figures (hand formatting: 万吨 to 2 decimals, percentages to 2 decimals)
    net = status["co2_bases"]["net_inflow"]["co2_emissions_t"]
    cons = status["co2_bases"]["consumption"]["co2_emissions_t"]
    assert f"净调入电力口径为{net / 1e4:.2f}万吨（估算）" in text
    assert f"电力消费口径为{cons / 1e4:.2f}万吨（估算）" in text
    assert f"累计下降{status_value(status, 'energy_intensity_reduction') * 100:.2f}%" in text
    assert f"非化石能源消费比重{status_value(status, 'non_fossil_share') * 100:.2f}%" in text
    assert f"森林覆盖率{status_value(status, 'forest_coverage') * 100:.2f}%" in text
    wind = status_value(status, "wind_solar_capacity_mw")
    assert f"风电、光伏装机{wind / 10:.2f}万千瓦" in text
    # table 1: the targets with their warning levels, one row per status target
    targets = tables[0]
    assert targets[0][0] == "指标" and len(targets) == 1 + len(status["targets"])
    non_fossil = next(r for r in targets[1:] if r[0] == "非化石能源消费比重16%左右")
    assert non_fossil[4] == f"{status_value(status, 'non_fossil_share') * 100:.2f}%"
    level = next(t["level"] for t in status["targets"] if t["id"] == "non_fossil_share_2025")
    assert non_fossil[5] == content.LEVEL_ZH[level]
    assert "2024年度考核结果尚未发布。" in text
    from docx import Document

    assert len(Document(io.BytesIO(first.content)).inline_shapes) == 2  # the line and the stacked bar chart
    # the figures stored with the document are the status figures
    assert first.figures["non_fossil_share"] == pytest.approx(status_value(status, "non_fossil_share"), rel=1e-9)
    assert first.figures["co2"]["consumption"]["co2_emissions_t"] == pytest.approx(cons, rel=1e-9)
    assert first.figures["levels"] == {t["id"]: t["level"] for t in status["targets"]}
    # regenerating from the same ledger version: the same figures and inputs hash; the document is stored
    again = generate.build_report(seeded_db, OFFICE, "dalian", 2024, "docx",
                                  ledger_version=first.info.ledger_version)
    assert again.inputs_hash == first.inputs_hash and again.figures == first.figures
    assert again.info.id != first.info.id
    stored = generate.get_document(seeded_db, OFFICE, "dalian", first.info.id)
    assert stored.content == first.content and stored.info.sha256 == first.info.sha256
    with seeded_db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "report_document")).all()
    assert actions.count("report.generate") == 2


def test_narrative_edit_is_audited_and_printed(seeded_db):
    drafts = narratives.get_narratives(seeded_db, OFFICE, "dalian", 2024)
    assert [(s.section, s.version, s.edited) for s in drafts] == [
        ("doc_number", 0, False), ("overview", 0, False), ("problems", 0, False), ("next_year", 0, False)]
    before = content.city_report(seeded_db, OFFICE, "dalian", 2024)
    edited = narratives.set_narrative(seeded_db, OFFICE, "dalian", 2024, "problems", "风电项目并网进度滞后。",
                                      version=0)
    assert (edited.version, edited.edited, edited.updated_by) == (1, True, "office")
    narratives.set_narrative(seeded_db, OFFICE, "dalian", 2024, "doc_number", "大碳达峰办〔2025〕7号", version=0)
    with pytest.raises(Conflict):  # a stale version
        narratives.set_narrative(seeded_db, OFFICE, "dalian", 2024, "problems", "另一稿", version=0)
    with pytest.raises(InputError) as bad:
        narratives.set_narrative(seeded_db, OFFICE, "dalian", 2024, "nonsense", "x", version=0)
    assert bad.value.problems[0].field == "section"
    with pytest.raises(Forbidden):
        narratives.set_narrative(seeded_db, VIEWER, "dalian", 2024, "problems", "x", version=1)
    with seeded_db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "report.narrative")
                                .order_by(AuditEntry.seq)).first()
    assert entry is not None and entry.actor == "office" and "风电项目并网进度滞后" in (entry.after or "")
    after = content.city_report(seeded_db, OFFICE, "dalian", 2024)
    assert after.inputs_hash != before.inputs_hash and after.figures == before.figures
    document = generate.build_report(seeded_db, OFFICE, "dalian", 2024, "docx")
    paragraphs, _ = docx_text(document.content)
    assert "风电项目并网进度滞后。" in paragraphs and "大碳达峰办〔2025〕7号" in paragraphs


def test_published_assessment_and_unit_reports(seeded_db):
    publish_run(seeded_db)
    report = content.city_report(seeded_db, OFFICE, "dalian", 2024)
    assert report.figures["assessment"]["published"] is True
    assert report.assessment_run_id == report.figures["assessment"]["runs"][0]["run_id"]
    sheet = next(s for s in report.sheets if s.name.startswith("考核结果"))
    assert sheet.rows == [[1, "中山区", 91.5, "优秀", "是"], [2, "西岗区", 78.25, "良好", ""]]
    assert any("中山区的得分部分依据估算数据（估算）" in getattr(b, "text", "") for b in report.document.body)
    published = [getattr(b, "text", "") for b in report.document.body if "结果已发布" in getattr(b, "text", "")]
    # the scheme's own name once the store holds it (the shipped district scheme), else "考核方案"
    assert published and published[0].startswith("2024年度考核（")
    assert "（第1版））结果已发布，共考核2个单位" in published[0]
    assert report.charts["assessment_district"]["values"] == [91.5, 78.25]
    # a district's own report: its figures are the status report's district entry
    view = units.unit_report(seeded_db, DISTRICT, "dalian", "d210202", 2024)
    entry = next(d for d in cli_status(2024)["districts"] if d["region"] == "210202")
    assert view.figures["energy_consumption_tce"] == pytest.approx(entry["energy_consumption_tce"])
    assert view.assessment is not None and view.assessment["total"] == "91.50"
    compiled = {s["org"]: s for s in report.figures["units"]}
    assert compiled["d210202"]["score"] == 91.5 and "年度考核得分91.50分" in compiled["d210202"]["summary_zh"]
    narratives.set_narrative(seeded_db, DISTRICT, "dalian", 2024, "overview", "中山区全面完成年度任务。",
                             org="d210202", version=0)
    own = generate.build_report(seeded_db, DISTRICT, "dalian", 2024, "docx", district="210202")
    assert own.info.scope == "unit" and own.info.org == "d210202"
    paragraphs, _ = docx_text(own.content)
    assert "中山区全面完成年度任务。" in paragraphs
    # the city report compiles the unit's edited overview
    compiled_doc = generate.build_report(seeded_db, OFFICE, "dalian", 2024, "docx")
    assert "中山区全面完成年度任务。" in docx_text(compiled_doc.content)[0]
    # scope: another unit's report and document answer 404; the district does not see the city's drafts' edits
    with pytest.raises(NotFound):
        units.unit_report(seeded_db, MIIT, "dalian", "d210202", 2024)
    with pytest.raises(NotFound):
        generate.get_document(seeded_db, MIIT, "dalian", own.info.id)
    with pytest.raises(NotFound):
        narratives.set_narrative(seeded_db, MIIT, "dalian", 2024, "overview", "x", org="d210202", version=1)
    assert [d.id for d in generate.list_documents(seeded_db, MIIT, "dalian")] == [compiled_doc.info.id]
    assert own.info.id in [d.id for d in generate.list_documents(seeded_db, DISTRICT, "dalian")]
    # enterprise users read no city report; viewers read but do not generate
    assert generate.list_documents(seeded_db, ENTERPRISE, "dalian") == []
    with pytest.raises(NotFound):
        generate.get_document(seeded_db, ENTERPRISE, "dalian", compiled_doc.info.id)
    assert generate.get_document(seeded_db, VIEWER, "dalian", compiled_doc.info.id).content == compiled_doc.content
    with pytest.raises(Forbidden):
        generate.build_report(seeded_db, VIEWER, "dalian", 2024, "docx")
    with pytest.raises(Forbidden):
        content.city_report(seeded_db, MIIT, "dalian", 2024)


def test_bad_inputs_name_their_field(seeded_db):
    with pytest.raises(InputError) as bad:
        generate.build_report(seeded_db, OFFICE, "dalian", 2024, "odt")
    assert bad.value.problems[0].field == "format"
    with pytest.raises(InputError) as bad:
        generate.build_report(seeded_db, OFFICE, "dalian", 2024, "docx", ledger_version=10_000)
    assert bad.value.problems[0].field == "ledger_version"
    with pytest.raises(NotFound):
        generate.build_report(seeded_db, OFFICE, "dalian", 2024, "docx", district="999999")
    with pytest.raises(InputError) as bad:
        generate.build_report(seeded_db, OFFICE, "dalian", 2099, "docx")
    assert bad.value.problems[0].field == "year" and "2099" in bad.value.problems[0].message
