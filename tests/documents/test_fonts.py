"""Font lookup: the substitutes are found by name through fontconfig, and the Simplified Chinese face of a
collection is extracted once into a per-user folder."""

from __future__ import annotations

import shutil
import tempfile

import pytest

from citycarbon.documents.fonts import find_font, single_face_file, split_substitute


@pytest.fixture(autouse=True)
def _needs_fc_match():
    if shutil.which("fc-match") is None:
        pytest.skip("fc-match (fontconfig) is not installed")


def test_split_substitute():
    assert split_substitute("Noto Serif CJK SC Bold") == ("Noto Serif CJK SC", True)
    assert split_substitute(" Noto Sans CJK SC ") == ("Noto Sans CJK SC", False)


def test_bold_and_regular_are_different_files():
    regular = find_font("Noto Serif CJK SC")
    bold = find_font("Noto Serif CJK SC", bold=True)
    assert bold.bold and not regular.bold
    assert bold.path != regular.path


def test_sc_face_extracted_once_into_a_fresh_folder(tmp_path, monkeypatch):
    from matplotlib.ft2font import FT2Font

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    font = find_font("Noto Sans CJK SC")
    path = single_face_file(font)
    if font.path.suffix.lower() != ".ttc":  # a distribution shipping single fonts: used as is
        assert path == font.path
        return
    assert path.parent.parent == tmp_path and path.suffix == ".otf"
    assert FT2Font(str(path)).family_name == "Noto Sans CJK SC"
    assert not list(path.parent.glob("*.part"))
    stamp = path.stat().st_mtime_ns
    assert single_face_file(font) == path and path.stat().st_mtime_ns == stamp
