"""Finding the open CJK fonts the renderers use (PDF and charts), by family name, through fontconfig.

The substitutes are data (``open_substitutes`` in ``data/documents/gbt9704.yaml``: Noto Serif CJK SC for 仿宋 and
小标宋, Noto Sans CJK SC for 黑体; Debian ``fonts-noto-cjk``). Paths are never hard-coded: :func:`find_font` asks
``fc-match`` and checks that the font found is the family asked for (fontconfig answers *some* font for any
name; a silent fallback would print tofu boxes), raising :class:`FontMissing` naming the package otherwise.

Debian ships Noto CJK as font collections (``.ttc``) whose first face is the Japanese one; renderers that cannot
pick a face in a collection (matplotlib) get the Simplified Chinese face as a single font file from
:func:`single_face_file` (extracted once per user into the temporary directory).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["FontFile", "FontMissing", "find_font", "single_face_file", "split_substitute"]

_PACKAGE_HINT = "Debian/Ubuntu: apt-get install fonts-noto-cjk fontconfig"


class FontMissing(RuntimeError):
    """A font the documents need is not installed (the message names the package)."""


@dataclass(frozen=True)
class FontFile:
    family: str  # the family name as installed (e.g. "Noto Serif CJK SC")
    path: Path  # the font file (.otf, .ttf or a .ttc collection)
    index: int  # the face in a collection (0 for single fonts)
    bold: bool


def split_substitute(name: str) -> tuple[str, bool]:
    """A substitute as written in the layout data (``Noto Serif CJK SC Bold``) → (family, bold)."""
    text = name.strip()
    if text.lower().endswith(" bold"):
        return text[: -len(" bold")].strip(), True
    return text, False


@cache
def find_font(family: str, *, bold: bool = False) -> FontFile:
    """The installed font file of ``family`` (regular or bold), found with ``fc-match``."""
    executable = shutil.which("fc-match")
    if executable is None:
        raise FontMissing(f"找不到 fc-match（fontconfig），无法查找字体“{family}” / fc-match (fontconfig) is not "
                          f"installed, cannot look up the font {family!r}. {_PACKAGE_HINT}")
    pattern = f"{family}:weight={'bold' if bold else 'regular'}"
    completed = subprocess.run(
        [executable, "-f", "%{file}\t%{index}\t%{family}\t%{weight}\n", pattern],
        capture_output=True, text=True, check=False, timeout=30)
    line = completed.stdout.strip().splitlines()[0] if completed.stdout.strip() else ""
    parts = line.split("\t")
    if completed.returncode != 0 or len(parts) < 4:
        raise FontMissing(f"查找字体“{family}”失败 / fc-match could not look up {family!r}: "
                          f"{completed.stderr.strip()}. {_PACKAGE_HINT}")
    path, index, families, weight = parts[0], parts[1], parts[2], parts[3]
    names = [name.strip() for name in families.split(",")]
    if family.lower() not in (name.lower() for name in names):
        raise FontMissing(f"未安装字体“{family}”（fontconfig 给出的是“{names[0]}”） / the font {family!r} is not "
                          f"installed (fontconfig offers {names[0]!r}). {_PACKAGE_HINT}")
    try:
        found_bold = int(float(weight)) >= 150  # fontconfig: 80 regular, 200 bold
    except ValueError:
        found_bold = False
    return FontFile(family=family, path=Path(path), index=int(index or 0), bold=found_bold)


def single_face_file(font: FontFile) -> Path:
    """``font`` as a file holding that face only: the file itself unless it is a collection with the face not
    first, else the face extracted (fontTools) into ``$TMPDIR/citycarbon-fonts-<uid>`` (once; reused after)."""
    if font.index == 0 and font.path.suffix.lower() != ".ttc":
        return font.path
    stat = font.path.stat()
    key = hashlib.sha256(f"{font.path}|{font.index}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    owner = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"citycarbon-fonts-{owner}"
    target = folder / f"{font.path.stem}-{font.index}-{key}.otf"
    if target.exists() and target.stat().st_uid == owner:
        return target
    from fontTools.ttLib import TTCollection  # type: ignore[import-untyped]

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if hasattr(os, "getuid") and folder.stat().st_uid != owner:
        raise FontMissing(f"字体缓存目录不属于当前用户 / the font cache {folder} belongs to another user")
    handle, partial = tempfile.mkstemp(dir=folder, suffix=".part")
    os.close(handle)
    collection = TTCollection(str(font.path), lazy=True)
    try:
        collection.fonts[font.index].save(partial)
        os.replace(partial, target)  # atomic: concurrent workers never read half a font
    finally:
        collection.close()
        if os.path.exists(partial):
            os.unlink(partial)
    return target
