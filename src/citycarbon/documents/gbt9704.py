"""An official document (公文) as DOCX, laid out after GB/T 9704-2012 《党政机关公文格式》.

The layout (page, margins, sizes, fonts) is data: ``data/documents/gbt9704.yaml``. A city may replace the
template: :func:`render_docx` takes the office's own ``.docx`` and keeps its styles, page setup, header and
footer, and writes the document's content into it (the template's body is replaced).

Elements written, in order: 发文机关标志 (red) and red rule, 发文字号, 标题, 主送机关, 正文 (paragraphs,
headings 一、/（一）/1./（1）, tables), 附件说明, 发文机关署名, 成文日期, 版记 (抄送, 印发机关和印发日期), and
page numbers "— 1 —" in the footer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

import yaml
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from citycarbon.data import data_path
from citycarbon.documents.ooxml import stable_zip

__all__ = ["Block", "Figure", "Heading", "OfficialDocument", "Paragraph", "Table", "chinese_date", "layout",
           "render_docx"]


@cache
def layout() -> dict[str, Any]:
    """The GB/T 9704 layout data (``data/documents/gbt9704.yaml``)."""
    with open(data_path("documents/gbt9704.yaml"), encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


def chinese_date(day: date) -> str:
    """成文日期 in Arabic numerals, full year, no padding (7.3.5.4): 2026年1月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Heading:
    """A heading of level 1–4, numbered by the caller (一、 /（一）/ 1. /（1））."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str | None = None


@dataclass(frozen=True)
class Figure:
    """A chart rendered on the server (PNG bytes, e.g. :mod:`citycarbon.documents.charts`) with its caption
    (图1 …) under it; ``width_mm`` within the 156 mm text block."""

    png: bytes
    caption: str
    width_mm: float = 150


Block = Paragraph | Heading | Table | Figure


@dataclass(frozen=True)
class OfficialDocument:
    issuer: str  # 发文机关标志 (e.g. 大连市碳达峰碳中和工作领导小组办公室)
    title: str
    body: list[Block]
    day: date  # 成文日期
    doc_number: str | None = None  # 发文字号, e.g. 大碳达峰办〔2026〕5号
    recipients: str | None = None  # 主送机关
    signature: str | None = None  # 发文机关署名 (default: the issuer)
    attachments: list[str] = field(default_factory=list)  # 附件说明
    cc: str | None = None  # 抄送
    printed_by: str | None = None  # 印发机关 (印发日期 = ``day``)


def _font(run: Any, role: str, size_pt: float, *, bold: bool = False, color: str | None = None) -> None:
    data = layout()
    name = data["fonts"][role]
    run.font.name = name
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    r_pr = run._element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)
    if color:
        run.font.color.rgb = RGBColor.from_string(color)


def _paragraph(document: Any, text: str, role: str, size: float, *, align: Any = None, indent: bool = False,
               bold: bool = False, color: str | None = None) -> Any:
    paragraph = document.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.line_spacing = Pt(layout()["line_spacing_pt"])
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size * 2)  # 首行缩进 2 字
    if align is not None:
        paragraph.alignment = align
    if text:
        _font(paragraph.add_run(text), role, size, bold=bold, color=color)
    return paragraph


def _red_rule(paragraph: Any, color: str) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"), ("w:color", color)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p_pr.append(borders)


def _page_number_footer(section: Any) -> None:
    footer = section.footer
    paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    for run in list(paragraph.runs):
        run._element.getparent().remove(run._element)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    size = layout()["sizes_pt"]["page_number"]
    _font(paragraph.add_run("— "), "songti", size)
    run = paragraph.add_run()
    _font(run, "songti", size)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)
    _font(paragraph.add_run(" —"), "songti", size)


def _setup_page(document: Any) -> None:
    page = layout()["page"]
    for section in document.sections:
        section.page_width = Mm(page["width_mm"])
        section.page_height = Mm(page["height_mm"])
        section.top_margin = Mm(page["top_mm"])
        section.left_margin = Mm(page["left_mm"])
        section.bottom_margin = Mm(page["bottom_mm"])
        section.right_margin = Mm(page["right_mm"])
        _page_number_footer(section)


def render_docx(doc: OfficialDocument, template: bytes | None = None) -> bytes:
    """The document as DOCX bytes; ``template``: the office's own DOCX (styles, page, header and footer kept,
    its body replaced)."""
    data = layout()
    sizes = data["sizes_pt"]
    if template is not None:
        document = Document(io.BytesIO(template))
        body = document.element.body
        for child in list(body):
            if child.tag != qn("w:sectPr"):
                body.remove(child)
    else:
        document = Document()
        _setup_page(document)
    center = WD_ALIGN_PARAGRAPH.CENTER
    issuer = _paragraph(document, doc.issuer, "xiaobiaosong", sizes["issuer"], align=center, color=data["red"])
    if doc.doc_number:
        number = _paragraph(document, doc.doc_number, "fangsong", sizes["body"], align=center)
        _red_rule(number, data["red"])
    else:
        _red_rule(issuer, data["red"])
    _paragraph(document, "", "fangsong", sizes["body"])
    _paragraph(document, doc.title, "xiaobiaosong", sizes["title"], align=center)
    _paragraph(document, "", "fangsong", sizes["body"])
    if doc.recipients:
        _paragraph(document, f"{doc.recipients}：", "fangsong", sizes["body"])
    heading_fonts = data["heading_fonts"]
    for block in doc.body:
        if isinstance(block, Heading):
            level = min(max(block.level, 1), len(heading_fonts))
            _paragraph(document, block.text, heading_fonts[level - 1], sizes["body"], indent=True)
        elif isinstance(block, Figure):
            document.add_picture(io.BytesIO(block.png), width=Mm(min(block.width_mm, 156)))
            document.paragraphs[-1].alignment = center
            _paragraph(document, block.caption, "heiti", sizes["imprint"], align=center)
        elif isinstance(block, Table):
            if block.caption:
                _paragraph(document, block.caption, "heiti", sizes["imprint"], align=center)
            table = document.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid" if template is None else table.style
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for cell, text in zip(table.rows[0].cells, block.header, strict=True):
                _font(cell.paragraphs[0].add_run(text), "heiti", sizes["imprint"])
            for values in block.rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, values, strict=True):
                    _font(cell.paragraphs[0].add_run(str(text)), "fangsong", sizes["imprint"])
        else:
            _paragraph(document, block.text, "fangsong", sizes["body"], indent=True)
    if doc.attachments:
        _paragraph(document, "", "fangsong", sizes["body"])
        for index, name in enumerate(doc.attachments, start=1):
            prefix = "附件：" if index == 1 else "　　　"
            label = f"{index}. {name}" if len(doc.attachments) > 1 else name
            _paragraph(document, f"{prefix}{label}", "fangsong", sizes["body"], indent=True)
    _paragraph(document, "", "fangsong", sizes["body"])
    right = WD_ALIGN_PARAGRAPH.RIGHT
    _paragraph(document, f"{doc.signature or doc.issuer}　　　　", "fangsong", sizes["body"], align=right)
    _paragraph(document, f"{chinese_date(doc.day)}　　　　", "fangsong", sizes["body"], align=right)
    if doc.cc or doc.printed_by:
        _paragraph(document, "", "fangsong", sizes["body"])
        if doc.cc:
            _paragraph(document, f"抄送：{doc.cc}。", "fangsong", sizes["imprint"])
        if doc.printed_by:
            _paragraph(document, f"{doc.printed_by}　　　　{chinese_date(doc.day)}印发", "fangsong",
                       sizes["imprint"])
    properties = document.core_properties  # same document, same bytes (issue 16): no clock in the package
    properties.title = doc.title
    properties.author = doc.signature or doc.issuer
    properties.created = properties.modified = datetime.combine(doc.day, datetime.min.time())
    properties.revision = 1
    out = io.BytesIO()
    document.save(out)
    return stable_zip(out.getvalue(), datetime.combine(doc.day, datetime.min.time()))
