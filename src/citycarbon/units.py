"""One unit registry for citycarbon: iam-units + ``units.txt``.

Contract
--------
* ``ureg`` is the single :class:`pint.UnitRegistry` used everywhere; quantities from other
  registries are not mixed in.
* ``tce``/``kgce``/``gce`` follow GB/T 2589-2020 (1 kgce = 29 307 kJ) and replace the iam-units
  definition (29.308 GJ) on purpose; see ``units.txt``.
* ``cal``/``kcal``/``Mcal``/``Gcal`` are the International Table calorie (4.1868 J, GB/T 2589's 4.1868 kJ/kcal:
  7 000 kcal = 29 307.6 kJ, 1 kgce to the standard's stated digits); the thermochemical calorie (4.184 J)
  is ``thermochemical_calorie``/``cal_th``.
* Dimensions are compared as pint objects (:func:`same_dimension`, :func:`dimension`), never as text.
* GWP conversion always names its metric (``"AR5GWP100"``, ``"AR6GWP100"``, ``"SARGWP100"`` ...);
  there is no default metric.

iam-units caches its parsed registry on disk with absolute paths of the environment that built it.
We point ``IAM_UNITS_CACHE`` into this interpreter's prefix before importing it so that a second
virtualenv never reads a stale cache (ENGINEERING.md §7).
"""

from __future__ import annotations

import importlib
import os
import pickle
import re
import shutil
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import ModuleType

try:  # POSIX: the cache lock; elsewhere processes rarely start together and the retry below still holds
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

os.environ.setdefault("IAM_UNITS_CACHE", str(Path(sys.prefix) / "var" / "iam-units-cache"))


def _import_iam_units() -> ModuleType:
    """Import iam-units (which parses its registry into the disk cache on first use) under a file lock on the
    cache folder: processes starting together (test workers, ``serve --workers 4`` on a fresh install) would
    otherwise read a cache file another is still writing (``EOFError: Ran out of input``). A cache left
    half-written by a killed process, or one naming files of an environment that is gone (a virtualenv moved or
    reached through a removed link: ``FileNotFoundError``), is dropped and built again."""
    cache = Path(os.environ["IAM_UNITS_CACHE"])
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return importlib.import_module("iam_units")
        except (EOFError, pickle.UnpicklingError, FileNotFoundError):
            for name in [m for m in sys.modules if m == "iam_units" or m.startswith("iam_units.")]:
                del sys.modules[name]
            for entry in cache.iterdir():
                if entry.name != ".lock":
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            return importlib.import_module("iam_units")


iam_units = _import_iam_units()

import pint  # noqa: E402

__all__ = [
    "GWP_METRICS",
    "Quantity",
    "UnitError",
    "conversion_factor",
    "convert",
    "convert_gwp",
    "dimension",
    "dimensionality",
    "is_unit",
    "product_factor",
    "same_dimension",
    "ureg",
]


class UnitError(ValueError):
    """A unit string that cannot be parsed, or that has the wrong dimension for its use."""


def _build_registry() -> pint.UnitRegistry:
    registry = iam_units.registry
    if getattr(registry, "_citycarbon_loaded", False):
        return registry
    previous = registry._on_redefinition
    registry._on_redefinition = "ignore"  # deliberate override of tce, see units.txt
    try:
        text = resources.files("citycarbon").joinpath("units.txt").read_text(encoding="utf-8")
        registry.load_definitions(text.splitlines())
    finally:
        registry._on_redefinition = previous
    registry._citycarbon_loaded = True
    return registry


ureg: pint.UnitRegistry = _build_registry()
Quantity = ureg.Quantity

#: GWP metrics known to iam-units; callers must name one explicitly.
GWP_METRICS: tuple[str, ...] = tuple(sorted(iam_units.emissions.METRICS))


@lru_cache(maxsize=4096)
def _parse(unit: str) -> pint.Unit:
    try:
        return ureg.Unit(_normalise(unit))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
            TypeError, ValueError, AssertionError) as exc:
        raise UnitError(f"unknown unit {unit!r}") from exc


def _normalise(unit: str) -> str:
    """Accept the spellings statistical tables use: ``10^4 t``, ``10^4 m3``, ``10^8 kWh``, and the same
    multipliers inside a compound unit (``tce/(10^4 CNY)``, the spelling results and the codelist use)."""
    text = str(unit).strip()
    for prefix, word in (("10^4", "wan"), ("10^8", "yi"), ("1e4", "wan"), ("1e8", "yi"),
                         ("万", "wan "), ("亿", "yi ")):
        if text.startswith(prefix):
            text = word + " " + text[len(prefix):].strip()
    return _INNER_MULTIPLIER.sub(lambda m: {"10^4": "wan ", "10^8": "yi "}[m.group(1)], text)


#: ``10^4``/``10^8`` directly after an opening parenthesis, a slash or a product sign
_INNER_MULTIPLIER = re.compile(r"(?<=[(/*])\s*(10\^4|10\^8)\s*")


@lru_cache(maxsize=4096)
def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Multiplier taking a magnitude in ``from_unit`` to ``to_unit``.

    Raises :class:`UnitError` if either unit is unknown or the dimensions differ.
    """
    src, dst = _parse(from_unit), _parse(to_unit)
    try:
        return float(ureg.Quantity(1.0, src).to(dst).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: different dimensions") from exc


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a magnitude; vectorises over numpy arrays and pandas Series."""
    return value * conversion_factor(from_unit, to_unit)


def is_unit(unit: str) -> bool:
    try:
        _parse(unit)
    except UnitError:
        return False
    return True


def dimension(unit: str) -> pint.util.UnitsContainer:
    """The pint dimensionality of a unit (an object: compare these, never their text).

    The text of a dimensionality depends on how pint built it (``[mass] * [length] ** 2 / [time] ** 2`` for
    ``MWh``, ``[length] ** 2 * [mass] / [time] ** 2`` for ``m**2*kg/s**2``), so equal dimensions can read
    differently; the objects compare equal. Raises :class:`UnitError` for an unknown unit.
    """
    return _parse(unit).dimensionality


def same_dimension(unit_a: str, unit_b: str) -> bool:
    """Whether two units have the same pint dimensionality (compared as objects, not as text)."""
    return dimension(unit_a) == dimension(unit_b)


def convert_gwp(metric: str, quantity: str, species_out: str) -> Quantity:
    """Convert an emission quantity between species with an explicit GWP metric.

    ``convert_gwp("AR5GWP100", "1 t CH4", "CO2e")`` → 28 t. ``metric`` is mandatory and must be one of
    :data:`GWP_METRICS`.
    """
    if metric not in GWP_METRICS:
        raise UnitError(f"unknown GWP metric {metric!r}; choose one of {', '.join(GWP_METRICS)}")
    return iam_units.convert_gwp(metric, quantity, species_out)


@lru_cache(maxsize=4096)
def product_factor(unit_a: str, unit_b: str, to_unit: str) -> float:
    """Magnitude of ``1 unit_a × 1 unit_b`` expressed in ``to_unit``.

    Used for quantity × factor products, e.g. ``product_factor("10^4 t", "kgce/kg", "tce")`` = 14 286 × …
    Raises :class:`UnitError` when the product does not have the dimension of ``to_unit``.
    """
    product = ureg.Quantity(1.0, _parse(unit_a)) * ureg.Quantity(1.0, _parse(unit_b))
    try:
        return float(product.to(_parse(to_unit)).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(f"{unit_a!r} × {unit_b!r} cannot be expressed in {to_unit!r}") from exc


def dimensionality(unit: str) -> str:
    """Readable dimensionality of a unit, e.g. ``[mass]`` or ``[length] ** 3``: for messages only. Two equal
    dimensions may read differently; compare with :func:`same_dimension` or :func:`dimension`."""
    return str(_parse(unit).dimensionality)
