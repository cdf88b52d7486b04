"""An official document (公文) as PDF, laid out after GB/T 9704-2012 《党政机关公文格式》, with WeasyPrint.

The same content model and layout data as the DOCX (:mod:`citycarbon.documents.gbt9704`,
``data/documents/gbt9704.yaml``): A4, 天头 37 mm, 订口 28 mm, bottom 35 mm, right 26 mm (text block 156×225 mm);
发文机关标志 in red 小标宋 and the red rule under the 发文字号; title 2号 (22 pt) 小标宋; body 3号 (16 pt) 仿宋,
first line indented 2 characters, lines 28.95 pt apart (22 lines a page); headings 一、/（一）/1./（1） in
黑体/楷体/仿宋/仿宋; tables and figures with captions; 附件说明, 发文机关署名 and 成文日期 (右空四字), 版记 between
rules; page numbers "— 1 —" in 4号宋体 7 mm under the text block, odd pages right and even pages left (空一字).

Fonts: each role's CSS stack is the office's font first (e.g. 仿宋_GB2312, used where installed) and then the open
substitute (Noto Serif/Sans CJK SC, ``fonts-noto-cjk``), which :func:`citycarbon.documents.fonts.find_font`
checks is installed before rendering (no silent tofu). WeasyPrint embeds the glyphs used (subset fonts).

No network: the HTML is built here, images are data URIs, ``base_url`` is a local empty directory and the URL
fetcher refuses anything but ``data:`` URLs. Same document → same bytes (metadata dates from ``doc.day``).

WeasyPrint needs Pango (a system library); it is imported inside :func:`render_pdf` only, so the rest of the
platform runs without it.
"""

from __future__ import annotations

import base64
import html
import re
import tempfile
from typing import Any

from citycarbon.documents.fonts import find_font, split_substitute
from citycarbon.documents.gbt9704 import Figure, Heading, OfficialDocument, Table, chinese_date, layout

__all__ = ["PdfUnavailable", "document_css", "document_html", "render_pdf"]

_NUMBER = re.compile(r"^[+\-−]?[\d,，]*\.?\d+(?:[eE][+\-]?\d+)?%?$")


class PdfUnavailable(RuntimeError):
    """WeasyPrint or its system libraries (Pango) are missing on this machine."""


def _font_stack(role: str) -> tuple[str, int]:
    """The CSS font-family list of a role (office font first, open substitute second) and its weight."""
    data = layout()
    official = data["fonts"][role]
    family, bold = split_substitute(data["open_substitutes"][role])
    return f'"{official}", "{family}"', 700 if bold else 400


def _check_fonts() -> None:
    for role in sorted(set(layout()["open_substitutes"])):
        family, bold = split_substitute(layout()["open_substitutes"][role])
        find_font(family, bold=bold)


def document_css() -> str:
    """The stylesheet, from the layout data."""
    data = layout()
    page = data["page"]
    sizes = data["sizes_pt"]
    line = data["line_spacing_pt"]
    red = "#" + str(data["red"]).lstrip("#")
    fang, fang_w = _font_stack("fangsong")
    xbs, xbs_w = _font_stack("xiaobiaosong")
    hei, hei_w = _font_stack("heiti")
    kai, kai_w = _font_stack("kaiti")
    song, song_w = _font_stack("songti")
    heading_fonts = [_font_stack(role) for role in data["heading_fonts"]]
    number_size = sizes["page_number"]
    page_number = (f'content: "— " counter(page) " —"; font-family: {song}; font-weight: {song_w}; '
                   f"font-size: {number_size}pt; vertical-align: top; padding-top: 7mm;")
    headings = "\n".join(
        f".h{level} {{ font-family: {stack}; font-weight: {weight}; }}"
        for level, (stack, weight) in enumerate(heading_fonts, start=1))
    return f"""
@page {{
  size: {page['width_mm']}mm {page['height_mm']}mm;
  margin: {page['top_mm']}mm {page['right_mm']}mm {page['bottom_mm']}mm {page['left_mm']}mm;
}}
@page :right {{ @bottom-right {{ {page_number} text-align: right; padding-right: {number_size}pt; }} }}
@page :left {{ @bottom-left {{ {page_number} text-align: left; padding-left: {number_size}pt; }} }}
html {{ font-family: {fang}; font-weight: {fang_w}; font-size: {sizes['body']}pt; line-height: {line}pt;
  color: #000; }}
body {{ margin: 0; }}
p, div, h1, h2, h3, h4, h5 {{ margin: 0; padding: 0; }}
.issuer {{ font-family: {xbs}; font-weight: {xbs_w}; font-size: {sizes['issuer']}pt; color: {red};
  text-align: center; line-height: 1.2; white-space: nowrap; }}
.number {{ text-align: center; margin-top: {line}pt; }}
.rule {{ border-bottom: 1.5pt solid {red}; margin-top: 4mm; height: 0; }}
.title {{ font-family: {xbs}; font-weight: {xbs_w}; font-size: {sizes['title']}pt; line-height: {line * 1.2:.2f}pt;
  text-align: center; margin-top: {line * 2}pt; margin-bottom: {line}pt; }}
.recipients {{ text-indent: 0; }}
.body {{ text-indent: 2em; text-align: justify; }}
.h1, .h2, .h3, .h4 {{ font-size: {sizes['body']}pt; text-indent: 2em; page-break-after: avoid;
  break-after: avoid; }}
{headings}
.caption {{ font-family: {hei}; font-weight: {hei_w}; font-size: {sizes['imprint']}pt; text-align: center;
  line-height: {line}pt; }}
table {{ border-collapse: collapse; width: 100%; margin: 0 0 {line / 2:.2f}pt 0;
  font-size: {sizes['imprint']}pt; line-height: 1.45; }}
th, td {{ border: 0.5pt solid #000; padding: 1.2mm 1.5mm; vertical-align: middle; }}
th {{ font-family: {hei}; font-weight: {hei_w}; text-align: center; }}
td {{ text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; break-inside: avoid; }}
figure {{ margin: {line / 2:.2f}pt 0; text-align: center; page-break-inside: avoid; break-inside: avoid; }}
figure img {{ display: block; margin: 0 auto; }}
.attachments {{ margin-top: {line}pt; }}
.attachment {{ padding-left: 5em; text-indent: -3em; }}
.signature {{ margin-top: {line}pt; text-align: right; padding-right: 4em; }}
.date {{ text-align: right; padding-right: 4em; }}
.imprint {{ float: footnote; font-size: {sizes['imprint']}pt; line-height: 1.5; }}
.imprint::footnote-call {{ content: none; }}
.imprint::footnote-marker {{ content: none; }}
table.imprint-table {{ width: 100%; margin: 0; font-size: {sizes['imprint']}pt; line-height: 1.5;
  border-top: 0.35mm solid #000; border-bottom: 0.35mm solid #000; }}
table.imprint-table td {{ border: none; padding: 1.5mm 1em; text-align: left; }}
table.imprint-table tr + tr td {{ border-top: 0.25mm solid #000; }}
table.imprint-table td.printed-date {{ text-align: right; white-space: nowrap; }}
@page {{ @footnote {{ margin-top: 0; }} }}
.kai {{ font-family: {kai}; font-weight: {kai_w}; }}
"""


def _escape(text: str) -> str:
    return html.escape(str(text), quote=True)


def _table_html(block: Table) -> str:
    parts: list[str] = []
    if block.caption:
        parts.append(f'<p class="caption">{_escape(block.caption)}</p>')
    parts.append("<table><thead><tr>")
    parts.extend(f"<th>{_escape(cell)}</th>" for cell in block.header)
    parts.append("</tr></thead><tbody>")
    for row in block.rows:
        parts.append("<tr>")
        for cell in row:
            text = "" if cell is None else str(cell)
            css = ' class="num"' if _NUMBER.match(text.strip()) else ""
            parts.append(f"<td{css}>{_escape(text)}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _figure_html(block: Figure) -> str:
    width = min(float(block.width_mm), float(156))
    data = base64.b64encode(block.png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" style="width: {width:g}mm" '
            f'alt="{_escape(block.caption)}"><figcaption class="caption">{_escape(block.caption)}</figcaption>'
            "</figure>")


def _issuer_size(issuer: str) -> float:
    """发文机关标志 on one line: the layout's size, smaller where the name is wider than the text block."""
    page = layout()["page"]
    width_pt = (page["width_mm"] - page["left_mm"] - page["right_mm"]) / 25.4 * 72
    size = float(layout()["sizes_pt"]["issuer"])
    return min(size, width_pt / max(len(issuer), 1) * 0.98)


def document_html(doc: OfficialDocument) -> str:
    """The document as one self-contained HTML page (stylesheet inline, images as data URIs)."""
    heading_count = len(layout()["heading_fonts"])
    created = f"{doc.day.isoformat()}T00:00:00+08:00"  # W3C date; Beijing time
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{_escape(doc.title)}</title>",
        f'<meta name="author" content="{_escape(doc.signature or doc.issuer)}">',
        f'<meta name="dcterms.created" content="{created}">',
        f'<meta name="dcterms.modified" content="{created}">',
        f"<style>{document_css()}</style></head><body>",
        f'<div class="issuer" style="font-size: {_issuer_size(doc.issuer):.2f}pt">{_escape(doc.issuer)}</div>',
    ]
    if doc.doc_number:
        parts.append(f'<div class="number">{_escape(doc.doc_number)}</div>')
    parts.append('<div class="rule"></div>')
    parts.append(f'<h1 class="title">{_escape(doc.title)}</h1>')
    if doc.recipients:
        parts.append(f'<p class="recipients">{_escape(doc.recipients)}：</p>')
    for block in doc.body:
        if isinstance(block, Heading):
            level = min(max(block.level, 1), heading_count)
            parts.append(f'<h{level + 1} class="h{level}">{_escape(block.text)}</h{level + 1}>')
        elif isinstance(block, Table):
            parts.append(_table_html(block))
        elif isinstance(block, Figure):
            parts.append(_figure_html(block))
        else:
            parts.append(f'<p class="body">{_escape(block.text)}</p>')
    if doc.attachments:
        parts.append('<div class="attachments">')
        for index, name in enumerate(doc.attachments, start=1):
            prefix = "附件：" if index == 1 else "　　　"
            label = f"{index}. {name}" if len(doc.attachments) > 1 else name
            parts.append(f'<p class="attachment">{prefix}{_escape(label)}</p>')
        parts.append("</div>")
    parts.append(f'<p class="signature">{_escape(doc.signature or doc.issuer)}</p>')
    parts.append(f'<p class="date">{chinese_date(doc.day)}</p>')
    if doc.cc or doc.printed_by:
        # 版记 at the foot of the last page: a CSS footnote (GCPM), without call or marker
        parts.append('<div class="imprint"><table class="imprint-table">')
        if doc.cc:
            parts.append(f'<tr><td colspan="2">抄送：{_escape(doc.cc)}。</td></tr>')
        if doc.printed_by:
            parts.append(f'<tr><td>{_escape(doc.printed_by)}</td>'
                         f'<td class="printed-date">{chinese_date(doc.day)}印发</td></tr>')
        parts.append("</table></div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _fetcher() -> Any:
    """WeasyPrint's URL fetcher limited to ``data:`` URLs (the inline images): no http, no file."""
    try:
        from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]
    except ImportError:  # WeasyPrint < 67: a fetcher is a function
        from weasyprint.urls import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            if not url.startswith("data:"):
                raise ValueError(f"URI uses disallowed protocol: {url[:80]}")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, fail_on_errors=False)


def render_pdf(doc: OfficialDocument) -> bytes:
    """The document as PDF bytes (A4, GB/T 9704 layout, CJK fonts embedded as subsets).

    Raises :class:`PdfUnavailable` where WeasyPrint or Pango is missing and
    :class:`citycarbon.documents.fonts.FontMissing` where the CJK fonts are."""
    try:
        import weasyprint  # type: ignore[import-untyped]
    except (ImportError, OSError) as error:
        raise PdfUnavailable(
            "生成 PDF 需要 WeasyPrint 及系统库 Pango（Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
            "fonts-noto-cjk） / PDF output needs WeasyPrint and the Pango system library (Debian: apt-get install "
            f"libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk): {error}") from error
    _check_fonts()
    with tempfile.TemporaryDirectory(prefix="citycarbon-pdf-") as base:
        document = weasyprint.HTML(string=document_html(doc), base_url=base, url_fetcher=_fetcher())
        pdf = document.write_pdf(uncompressed_pdf=False)
    if not isinstance(pdf, bytes):  # pragma: no cover - write_pdf without a target returns bytes
        raise PdfUnavailable("WeasyPrint returned no bytes / WeasyPrint returned no bytes")
    return pdf
