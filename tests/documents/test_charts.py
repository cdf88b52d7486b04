"""Server-side charts: PNG of the fixed size, same bytes twice, the CJK font actually used, missing glyphs and
mismatched series refused."""

from __future__ import annotations

import struct

import pytest

from citycarbon.documents.charts import (
    CHART_DPI,
    CHART_SIZE_IN,
    ChartFontError,
    _number,
    bar_chart,
    chart_font,
    line_chart,
    stacked_bar_chart,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _ranking() -> bytes:
    return bar_chart(["中山区", "西岗区", "沙河口区", "甘井子区"], [92.5, 88.0, 75.25, 59.0],
                     title="2024年各区考核得分", unit="得分（分）", highlight=[False, False, False, True])


def _lines() -> bytes:
    return line_chart([2020, 2021, 2022, 2023, 2024],
                      {"能源消费量": [2750.0, None, 2900.0, 2950.0, 2990.0],
                       "二氧化碳排放量": [4900.0, 5100.0, 5200.0, 5150.0, 5100.0]},
                      title="能源消费与二氧化碳排放", unit="万吨标准煤；万吨二氧化碳", target=(2025, 3000.0))


def _stacked() -> bytes:
    return stacked_bar_chart(["2022年", "2023年", "2024年"],
                             {"工业": [3000.0, 2900.0, 2800.0], "建筑": [800.0, 820.0, 830.0],
                              "交通": [900.0, 950.0, 990.0]}, title="分部门二氧化碳排放", unit="万吨二氧化碳")


@pytest.mark.parametrize("make", [_ranking, _lines, _stacked], ids=["bar", "line", "stacked"])
def test_png_of_fixed_size_same_bytes_twice_without_software_stamp(make):
    png = make()
    assert _size(png) == (round(CHART_SIZE_IN[0] * CHART_DPI), round(CHART_SIZE_IN[1] * CHART_DPI))
    assert make() == png
    assert b"matplotlib" not in png.lower() and b"Software" not in png


def test_data_change_the_picture():
    assert _ranking() != bar_chart(["中山区", "西岗区", "沙河口区", "甘井子区"], [92.5, 88.0, 75.25, 60.0],
                                   title="2024年各区考核得分", unit="得分（分）",
                                   highlight=[False, False, False, True])


def test_the_cjk_font_is_the_one_used():
    from matplotlib import font_manager

    family, path = chart_font()
    assert family == "Noto Sans CJK SC"
    assert font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False) == str(path)
    from matplotlib.ft2font import FT2Font

    face = FT2Font(str(path))
    assert face.family_name == "Noto Sans CJK SC"  # the Simplified Chinese face, not the collection's first (JP)
    assert all(face.get_char_index(ord(char)) for char in "各区考核得分（万吨二氧化碳）")


def test_a_character_missing_from_the_font_is_an_error_not_a_box():
    with pytest.raises(ChartFontError, match="缺字"):
        bar_chart(["中山区\U0001F600"], [1.0], title="考核", unit="分")


def test_series_of_the_wrong_length_are_refused():
    with pytest.raises(ValueError, match="categories"):
        stacked_bar_chart(["2023年", "2024年"], {"工业": [1.0]}, title="t", unit="万吨")
    with pytest.raises(ValueError, match="categories"):
        bar_chart(["a", "b"], [1.0, 2.0], title="t", unit="分", highlight=[True])


def test_value_labels_round_half_up():
    assert [_number(v) for v in (75.25, 9.995, 2890.5, 1234567.0, 0.125)] == [
        "75.3", "10.00", "2,891", "1,234,567", "0.13"]
