"""The DOCX of the sample report reads back with python-docx: title, table cell, inline chart, page field."""

from __future__ import annotations

import io

from docx import Document
from docx.shared import Mm

from citycarbon.documents.gbt9704 import render_docx
from tests.documents.conftest import TABLE_VALUE, TITLE


def test_docx_reads_back_title_table_and_figure(sample):
    document = Document(io.BytesIO(render_docx(sample)))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert TITLE in texts
    assert "图1 2024年各区考核得分" in texts
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert TABLE_VALUE in cells
    assert "2024年（万吨标准煤）" in cells
    assert len(document.inline_shapes) == 1
    assert abs(document.inline_shapes[0].width - Mm(140)) < Mm(1)
    section = document.sections[0]
    assert (round(section.top_margin.mm), round(section.left_margin.mm)) == (37, 28)
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "— " in footer_xml


def test_docx_same_document_same_bytes_dated_by_the_document(sample):
    import time
    import zipfile

    first = render_docx(sample)
    time.sleep(2.1)  # zip entries are dated to 2 s; python-docx alone would stamp the clock
    assert render_docx(sample) == first
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        assert {info.date_time for info in package.infolist()} == {(2025, 1, 5, 0, 0, 0)}
    properties = Document(io.BytesIO(first)).core_properties
    assert properties.title == TITLE
    assert properties.created.date().isoformat() == "2025-01-05" == properties.modified.date().isoformat()
