"""The official-document DOCX (GB/T 9704): python-docx reads it back with its Chinese text, the page is laid out
as the layout data says, the footer carries the page-number field, and an office template is honoured."""

from __future__ import annotations

import io
from datetime import date

from docx import Document
from docx.shared import Mm

from citycarbon.documents.gbt9704 import Heading, OfficialDocument, Paragraph, Table, chinese_date, layout, render_docx

DOC = OfficialDocument(issuer="大连市碳达峰碳中和工作领导小组办公室", title="关于督办有关工作措施落实情况的通知",
                       doc_number="大碳达峰办〔2026〕5号", recipients="市工业和信息化局",
                       body=[Heading("一、督办事项", 1), Paragraph("请于5个工作日内报送落实情况。"),
                             Table(["措施", "状态"], [["T04-M01", "滞后"]])],
                       day=date(2026, 1, 5), cc="市发展改革委", printed_by="大连市碳达峰碳中和工作领导小组办公室")


def test_reads_back_with_chinese_text_and_layout():
    document = Document(io.BytesIO(render_docx(DOC)))
    text = "\n".join(p.text for p in document.paragraphs)
    for expected in ("大碳达峰办〔2026〕5号", "关于督办有关工作措施落实情况的通知", "市工业和信息化局：",
                     "请于5个工作日内报送落实情况。", "2026年1月5日", "抄送：市发展改革委。"):
        assert expected in text
    assert document.tables[0].rows[1].cells[1].text == "滞后"
    section = document.sections[0]
    page = layout()["page"]
    assert abs(section.top_margin - Mm(page["top_mm"])) < Mm(0.1)
    assert abs(section.left_margin - Mm(page["left_mm"])) < Mm(0.1)
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "— " in section.footer.paragraphs[0].text
    body_runs = [r for p in document.paragraphs if "报送" in p.text for r in p.runs]
    assert body_runs[0].font.name == layout()["fonts"]["fangsong"]


def test_office_template_is_used():
    template = Document()
    template.sections[0].header.paragraphs[0].text = "大连市模板页眉"
    template.add_paragraph("模板正文将被替换")
    buffer = io.BytesIO()
    template.save(buffer)
    document = Document(io.BytesIO(render_docx(DOC, template=buffer.getvalue())))
    assert document.sections[0].header.paragraphs[0].text == "大连市模板页眉"
    text = "\n".join(p.text for p in document.paragraphs)
    assert "模板正文将被替换" not in text and "关于督办有关工作措施落实情况的通知" in text


def test_chinese_date_has_no_padding():
    assert chinese_date(date(2026, 1, 5)) == "2026年1月5日"
