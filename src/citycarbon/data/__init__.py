"""Shipped data: plans, factor tables, codelists and the Dalian reference dataset.

Files are read through :mod:`importlib.resources` so an installed wheel works like a checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd


def data_path(relative: str) -> Path:
    """Filesystem path of a shipped data file, e.g. ``data_path("plans/dalian.yaml")``."""
    return Path(str(resources.files("citycarbon").joinpath("data", relative)))


def read_csv(relative: str, **kwargs) -> pd.DataFrame:
    """Read a shipped CSV (UTF-8). Leading lines starting with ``#`` are a banner and are skipped."""
    path = data_path(relative)
    return read_csv_file(path, **kwargs)


def banner_lines(path: str | Path) -> int:
    """How many leading ``#`` lines (a banner naming the file's source) a CSV has."""
    banner = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            banner += 1
    return banner


def read_csv_file(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV whose leading ``#`` lines (a banner naming its source) are skipped. ``attrs["first_row"]`` is
    the spreadsheet row of the first data row (the banner lines and the header count: 2 without a banner)."""
    banner = banner_lines(path)
    frame = pd.read_csv(path, skiprows=banner, keep_default_na=False, na_values=[""], **kwargs)
    frame.attrs["first_row"] = banner + 2
    return frame
