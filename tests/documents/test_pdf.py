"""The PDF of the sample report (WeasyPrint): CJK fonts embedded, text and page numbers, A4, GB/T 9704 margins,
same bytes twice, no network, clear errors where Pango or the fonts are missing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from citycarbon.documents.fonts import FontMissing, find_font
from citycarbon.documents.gbt9704 import Paragraph
from citycarbon.documents.gbt9704_pdf import PdfUnavailable, _fetcher, document_html, render_pdf
from tests.documents.conftest import ISSUER, NUMBER, TABLE_VALUE, TITLE

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM


def _weasyprint_or_skip() -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:
        pytest.skip(f"WeasyPrint/Pango not installed here: {error}")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


@pytest.fixture(scope="module")
def pdf_file(sample, tmp_path_factory) -> Path:
    _weasyprint_or_skip()
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(render_pdf(sample))
    return path


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_cjk_fonts_are_embedded(pdf_file):
    lines = _run(_tool("pdffonts"), str(pdf_file)).splitlines()[2:]
    assert lines, "no fonts listed"
    fonts = {line.split()[0].split("+")[-1]: line.split() for line in lines}
    assert "Noto-Serif-CJK-SC" in fonts and "Noto-Sans-CJK-SC" in fonts and "Noto-Serif-CJK-SC-Bold" in fonts
    for name, columns in fonts.items():
        # columns: name type... encoding emb sub uni object ID; every font embedded and subset
        assert columns[-5:-2] == ["yes", "yes", "yes"], (name, columns)


def test_text_holds_title_number_table_value_and_page_numbers(pdf_file):
    text = _run(_tool("pdftotext"), "-layout", str(pdf_file), "-")
    assert TITLE in re.sub(r"\s+", "", text)
    assert NUMBER in text
    assert ISSUER in text.splitlines()[0]  # 发文机关标志 on one line
    assert TABLE_VALUE in text
    assert "2024年（万吨标准煤）" in text
    assert "图1 2024年各区考核得分" in text
    assert "附件：1. 2024年度考核结果" in text
    assert "2025年1月5日印发" in text
    pages = text.split("\f")
    assert len([page for page in pages if page.strip()]) >= 2
    for number, page in enumerate((page for page in pages if page.strip()), start=1):
        assert re.search(rf"—\s*{number}\s*—", page), f"page {number} has no '— {number} —'"


def test_page_is_a4_and_dates_come_from_the_document(pdf_file):
    info = _run(_tool("pdfinfo"), "-isodates", str(pdf_file))
    assert re.search(r"Page size:\s+595\.2\d* x 841\.8\d* pts \(A4\)", info)
    assert "CreationDate:    2025-01-05T00:00:00+08" in info
    assert "ModDate:         2025-01-05T00:00:00+08" in info
    assert f"Title:           {TITLE}" in info


def _words(pdf_file: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    xml = _run(_tool("pdftotext"), "-bbox", "-f", str(page), "-l", str(page), str(pdf_file), "-")
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(pattern, xml)]


def test_text_stays_in_the_156_by_225_mm_block_and_page_numbers_alternate(pdf_file):
    tolerance = 1.5 * MM  # GB/T 9704 allows ±1 mm on 天头 and 订口
    for page in (1, 2):
        words = _words(pdf_file, page)
        block_bottom = PAGE_H - 35 * MM
        body = [word for word in words if word[1] < block_bottom]
        numbers = [word for word in words if word[1] >= block_bottom]
        assert body and numbers
        assert min(word[0] for word in body) >= 28 * MM - tolerance
        assert min(word[0] for word in body) <= 28 * MM + tolerance  # paragraphs run from the 订口
        assert max(word[2] for word in body) <= PAGE_W - 26 * MM + tolerance
        assert min(word[1] for word in body) >= 37 * MM - tolerance
        assert max(word[3] for word in body) <= block_bottom + tolerance
        # "— n —" 7 mm under the text block: odd pages at the right edge less one character, even at the left
        assert [word[4] for word in numbers] == ["—", str(page), "—"]
        assert all(word[1] >= block_bottom + 5 * MM for word in numbers)
        if page % 2:
            assert max(word[2] for word in numbers) == pytest.approx(PAGE_W - 26 * MM - 14, abs=2)
        else:
            assert min(word[0] for word in numbers) == pytest.approx(28 * MM + 14, abs=2)


def test_same_document_same_bytes(sample, pdf_file):
    assert render_pdf(sample) == pdf_file.read_bytes()


def test_text_is_escaped_not_markup(sample):
    html = document_html(replace(sample, body=[Paragraph('<img src="http://example.com/x.png">&')]))
    assert "&lt;img src=&quot;http://example.com/x.png&quot;&gt;&amp;" in html
    assert "http://" not in html.replace("http://example.com", "")


def test_renderer_fetches_no_url():
    _weasyprint_or_skip()
    fetcher = _fetcher()
    for url in ("http://example.com/font.woff", "https://example.com/a.png", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher(url)
    assert fetcher("data:text/plain;base64,5Lit").read() == "中".encode()


def test_missing_pango_names_the_packages(sample, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as without Pango
    with pytest.raises(PdfUnavailable, match=r"libpango-1\.0-0"):
        render_pdf(sample)


def test_missing_font_is_an_error_not_a_fallback():
    _tool("fc-match")
    with pytest.raises(FontMissing, match="fonts-noto-cjk"):
        find_font("Citycarbon No Such Font CJK")
    font = find_font("Noto Serif CJK SC")
    assert font.path.exists() and font.family == "Noto Serif CJK SC"


def test_imprint_sits_at_the_foot_of_the_last_page(pdf_file):
    pages = int(re.search(r"Pages:\s+(\d+)", _run(_tool("pdfinfo"), str(pdf_file)))[1])
    words = _words(pdf_file, pages)
    printed = [word for word in words if word[4].endswith("印发")]
    signature_date = [word for word in words if word[4] == "2025年1月5日"]
    assert printed and signature_date
    block_bottom = PAGE_H - 35 * MM
    # 版记's last line is the text block's last line (GB/T 9704 7.4), under the signature and date
    assert block_bottom - 12 * MM <= printed[0][3] <= block_bottom + 1
    assert printed[0][1] > signature_date[0][3]
    assert printed[0][2] == pytest.approx(PAGE_W - 26 * MM - 14, abs=6)  # 印发日期 right, 空一字
