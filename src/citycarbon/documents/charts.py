"""Charts for the reports, rendered on the server as PNG (matplotlib, Agg; no browser, no network).

Chinese labels use Noto Sans CJK SC (the 黑体 substitute of ``data/documents/gbt9704.yaml``), found through
fontconfig (:func:`citycarbon.documents.fonts.find_font`); a glyph missing from it is an error
(:class:`ChartFontError`), never a tofu box. Output is deterministic: fixed size and dpi, no ``Software`` or date
metadata, so the same data give the same bytes (a report regenerated from the same ledger version is identical).

Every chart names its unit (the y axis, or the x axis of the horizontal ranking).
"""

from __future__ import annotations

import io
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from citycarbon.documents.fonts import find_font, single_face_file, split_substitute
from citycarbon.documents.gbt9704 import layout

__all__ = ["CHART_DPI", "CHART_SIZE_IN", "ChartFontError", "bar_chart", "chart_font", "line_chart",
           "stacked_bar_chart"]

CHART_SIZE_IN = (6.2, 3.6)  # 157 × 91 mm: the 156 mm text block of GB/T 9704
CHART_DPI = 200
_PALETTE = ["#1F4E79", "#C00000", "#548235", "#BF8F00", "#7030A0", "#2E75B6", "#843C0C", "#00808A", "#7F7F7F"]
_MUTED = "#9DB3CF"


_LOCK = threading.Lock()  # matplotlib's rcParams are global: one chart at a time per process


class ChartFontError(RuntimeError):
    """A label has a character the CJK font lacks (it would print as a box)."""


@cache
def chart_font() -> tuple[str, Path]:
    """(family, file) of the charts' font: the 黑体 substitute, registered with matplotlib once."""
    from matplotlib import font_manager

    family, bold = split_substitute(layout()["open_substitutes"]["heiti"])
    path = single_face_file(find_font(family, bold=bold))
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    return name, path


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    family, _ = chart_font()
    settings = {
        "font.family": [family],
        "font.size": 9,
        "axes.unicode_minus": False,  # U+2212 is fine, but keep the ASCII hyphen the documents use
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "legend.frameon": False,
        "svg.hashsalt": "citycarbon",
        "path.simplify": True,
    }
    with _LOCK, matplotlib.rc_context(settings), warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("error", message=r".*findfont.*")
        try:
            yield
        except UserWarning as warning:
            raise ChartFontError(f"图表字体缺字 / the chart font lacks a character: {warning}") from warning


def _figure() -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    return figure, axes


def _png(figure: Any) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=CHART_DPI, metadata={"Software": None})
    return out.getvalue()


def _number(value: float) -> str:
    """A value label, rounded half up (75.25 → 75.3, as a reader rounds), with thousands separators."""
    places = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{rounded:,.{places}f}"


def _series_colour(index: int) -> str:
    """Series colours; red (the target and highlight colour) is kept out of the series."""
    colours = [colour for colour in _PALETTE if colour != _PALETTE[1]]
    return colours[index % len(colours)]


def _legend_below(axes: Any, entries: int) -> None:
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8, ncols=max(1, min(5, entries)))


def _check(categories: list[str], lengths: dict[str, int]) -> None:
    for name, length in lengths.items():
        if length != len(categories):
            raise ValueError(f"“{name}”有 {length} 个值，类别有 {len(categories)} 个 / series {name!r} has "
                             f"{length} values for {len(categories)} categories")


def bar_chart(categories: list[str], values: list[float], *, title: str, unit: str,
              highlight: list[bool] | None = None) -> bytes:
    """A horizontal bar chart in the given order, first on top (e.g. the assessment ranking), values written
    at the bar ends; ``highlight``: bars drawn in the accent colour (e.g. the units graded 不合格)."""
    _check(categories, {"values": len(values), **({"highlight": len(highlight)} if highlight is not None else {})})
    with _style():
        figure, axes = _figure()
        count = len(categories)
        positions = list(range(count))
        colours = [(_PALETTE[1] if highlight and highlight[index] else _PALETTE[0]) for index in positions]
        bars = axes.barh(positions, values, color=colours, height=0.65)
        axes.set_yticks(positions, labels=categories)
        axes.invert_yaxis()
        axes.set_xlabel(unit)
        axes.set_title(title)
        span = max((abs(value) for value in values), default=1.0) or 1.0
        for bar, value in zip(bars, values, strict=True):
            axes.text(bar.get_width() + span * 0.01, bar.get_y() + bar.get_height() / 2, _number(value),
                      va="center", ha="left", fontsize=8)
        axes.set_xlim(0, span * 1.12)
        axes.grid(axis="x", color="#D9D9D9", linewidth=0.6)
        axes.set_axisbelow(True)
        figure.tight_layout()
        return _png(figure)


def line_chart(years: list[int], series: dict[str, list[float | None]], *, title: str, unit: str,
               target: tuple[int, float] | None = None) -> bytes:
    """Lines over the years (``None``: no value that year, a gap), with an optional target marker
    (year, value), labelled 目标."""
    _check([str(year) for year in years], {name: len(values) for name, values in series.items()})
    with _style():
        figure, axes = _figure()
        for index, (name, values) in enumerate(series.items()):
            points = [math.nan if value is None else float(value) for value in values]
            axes.plot(years, points, marker="o", markersize=3.5, linewidth=1.6,
                      color=_series_colour(index), label=name)
        if target is not None:
            year, value = target
            axes.plot([year], [value], marker="*", markersize=12, color=_PALETTE[1], linestyle="none",
                      label=f"目标（{year}年）")
            axes.annotate(f"目标 {_number(value)}", (year, value), textcoords="offset points", xytext=(0, 8),
                          ha="center", fontsize=8, color=_PALETTE[1])
        shown = sorted({*years, *([target[0]] if target else [])})
        step = max(1, math.ceil(len(shown) / 12))
        axes.set_xticks(shown[::step], labels=[str(year) for year in shown[::step]])
        axes.set_ylabel(unit)
        axes.set_title(title)
        axes.grid(axis="y", color="#D9D9D9", linewidth=0.6)
        if series or target:
            _legend_below(axes, len(series) + (1 if target else 0))
        figure.tight_layout()
        return _png(figure)


def stacked_bar_chart(categories: list[str], series: dict[str, list[float]], *, title: str, unit: str) -> bytes:
    """Stacked vertical bars (e.g. CO2 by sector per year): one colour per series, a legend, the total over each
    bar."""
    _check(categories, {name: len(values) for name, values in series.items()})
    with _style():
        figure, axes = _figure()
        positions = list(range(len(categories)))
        bottoms = [0.0] * len(categories)
        for index, (name, values) in enumerate(series.items()):
            heights = [float(value) for value in values]
            axes.bar(positions, heights, bottom=bottoms, width=0.6, color=_series_colour(index),
                     label=name)
            bottoms = [bottom + height for bottom, height in zip(bottoms, heights, strict=True)]
        top = max(bottoms, default=1.0) or 1.0
        for position, total in zip(positions, bottoms, strict=True):
            axes.text(position, total + top * 0.01, _number(total), ha="center", va="bottom", fontsize=8)
        axes.set_xticks(positions, labels=categories)
        axes.set_ylim(0, top * 1.1)
        axes.set_ylabel(unit)
        axes.set_title(title)
        axes.grid(axis="y", color="#D9D9D9", linewidth=0.6)
        axes.set_axisbelow(True)
        if series:
            _legend_below(axes, len(series))
        figure.tight_layout()
        return _png(figure)
