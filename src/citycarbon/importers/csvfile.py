"""Reading a CSV as a person wrote it: the encoding Chinese Excel saves, and rows numbered as a spreadsheet.

Contract
--------
* :func:`decode` tries UTF-8 (a byte-order mark, as Excel's "CSV UTF-8" writes it, is dropped) and then
  GB18030, the superset of GBK/GB2312 that Chinese Excel's plain "CSV" writes; it returns the text and the
  encoding used (``utf-8-sig`` or ``gb18030``). Bytes that are neither raise :class:`InputError` naming the
  file.
* :func:`read_csv_rows` reads a CSV (leading ``#`` banner lines skipped, as :func:`citycarbon.data.read_csv_file`
  does) with every cell as text, and numbers its rows as a spreadsheet shows the file: the header is the line
  after the banner, the first data row the line after the header, blank lines count (and are dropped). The
  numbers are the frame's index (named :data:`citycarbon.importers.schemas.ROW_INDEX`), which the validators
  use in their messages; ``frame.attrs["encoding"]`` records the encoding.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from citycarbon.errors import InputError, Problem
from citycarbon.importers.schemas import numbered

__all__ = ["ENCODINGS", "decode", "read_csv_rows"]

#: the encodings tried, in order: UTF-8 (with or without a byte-order mark), then GB18030 (⊇ GBK ⊇ GB2312)
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")


def decode(data: bytes, source: str) -> tuple[str, str]:
    """``(text, encoding)`` of a CSV file's bytes: the first of :data:`ENCODINGS` that decodes them."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InputError(Problem(
        "not a readable CSV file: the text is neither UTF-8 nor GB18030/GBK; save it as CSV UTF-8 or CSV",
        message_zh="无法读取的 CSV 文件: 文本既不是 UTF-8 也不是 GB18030/GBK 编码; 请另存为 CSV UTF-8 或 CSV",
        file=source))


def read_csv_rows(path: str | Path, source: str | None = None) -> pd.DataFrame:
    """Read a CSV file (any of :data:`ENCODINGS`) as text cells, rows numbered as a spreadsheet shows them."""
    path = Path(path)
    source = source or path.name
    text, encoding = decode(path.read_bytes(), source)
    banner = 0
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        banner += 1
    try:
        frame = pd.read_csv(io.StringIO(text), skiprows=banner, dtype=str, keep_default_na=False, na_values=[""],
                            skip_blank_lines=False)
    except pd.errors.EmptyDataError as exc:
        raise InputError(Problem("the file is empty (no header row)", message_zh="文件为空(没有表头行)",
                                 file=source)) from exc
    except pd.errors.ParserError as exc:
        raise InputError(Problem(f"not a readable CSV file ({exc})", message_zh=f"无法读取的 CSV 文件({exc})",
                                 file=source)) from exc
    # the header is line banner + 1, so the first data row is line banner + 2; blank rows keep their numbers
    frame = numbered(frame, banner + 2).dropna(how="all")
    frame.attrs["encoding"] = encoding
    return frame
