"""Shared pieces of the analytic toy models the analysis tests run on (the PathwayModel protocol)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    """A parameter table with the columns ``model.parameters`` exposes (``distribution`` is optional)."""

    names: list[str]
    default: list[float]
    low: list[float]
    high: list[float]
    group: list[str]
    kind: list[str]
    direction: list[float]
    unit: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    distribution: list[str] | None = None


def check_protocol(model, scenario, *, runs: int = 6, seed: int = 0) -> None:
    """Assert what :class:`citycarbon.pathways.uncertainty.PathwayModel` promises, by behaviour:

    * ``parameters``: every column of the table has one entry per parameter, names are unique, ``low ≤ default
      ≤ high``, ``kind`` is lever/uncertain/cost and ``direction`` is −1, 0 or +1;
    * ``vector(scenario)``: a (p,) float vector holding the scenario's settings at their names' columns and
      the defaults elsewhere;
    * ``evaluate(X)`` for (n, p): ``years`` ascending integers, every series (n, years), ``peak_year`` a year
      of the output for each run, ``peak_value`` (n,) finite, every target (met (n,) bool, margin (n,) finite);
      deterministic (the same X twice gives the same bits) and vectorised (each row is one run: evaluating
      the rows one by one gives the batch's values).
    """
    import numpy as np

    from citycarbon.pathways.uncertainty import PathwayModel

    assert isinstance(model, PathwayModel)
    table = model.parameters
    names = list(table.names)
    p = len(names)
    assert p > 0 and len(set(names)) == p, "parameter names must be unique"
    for column in ("default", "low", "high", "group", "kind", "unit", "source", "direction"):
        assert len(getattr(table, column)) == p, f"parameters.{column} has {len(getattr(table, column))} entries"
    low, default, high = (np.asarray(getattr(table, c), dtype=float) for c in ("low", "default", "high"))
    assert np.all(low <= default) and np.all(default <= high), "defaults must lie within [low, high]"
    assert set(table.kind) <= {"lever", "uncertain", "cost"}
    assert set(np.asarray(table.direction, dtype=float).tolist()) <= {-1.0, 0.0, 1.0}

    x = np.asarray(model.vector(scenario))
    assert x.shape == (p,) and x.dtype.kind == "f"
    settings = {**scenario.levers, **getattr(scenario, "parameters", {})}
    for i, name in enumerate(names):
        assert x[i] == settings.get(name, default[i]), f"vector()[{name}]"

    rng = np.random.default_rng(seed)
    X = np.vstack([x, default, low + rng.random((runs - 2, p)) * (high - low)])
    out = model.evaluate(X)
    years = np.asarray(out.years)
    assert years.ndim == 1 and years.dtype.kind in "iu" and np.all(np.diff(years) > 0)
    assert out.series, "no series"
    for name, values in out.series.items():
        assert np.shape(values) == (runs, len(years)), f"series {name}: {np.shape(values)}"
    peak_year, peak_value = np.asarray(out.peak_year()), np.asarray(out.peak_value())
    assert peak_year.shape == (runs,) and np.isin(peak_year, years).all()
    assert peak_value.shape == (runs,) and np.isfinite(peak_value).all()
    for target, (met, margin) in out.targets().items():
        met, margin = np.asarray(met), np.asarray(margin)
        assert met.shape == margin.shape == (runs,) and met.dtype == bool, f"target {target}"
        assert np.isfinite(margin).all(), f"target {target}: margin not finite"

    again = model.evaluate(X.copy())
    for name, values in out.series.items():
        assert np.asarray(again.series[name]).tobytes() == np.asarray(values).tobytes(), f"{name} not deterministic"
    for row in range(runs):
        single = model.evaluate(X[row:row + 1])
        for name, values in out.series.items():
            np.testing.assert_allclose(np.asarray(single.series[name])[0], np.asarray(values)[row], rtol=1e-12,
                                       atol=0, err_msg=f"run {row} of {name} depends on the other runs")
        assert np.asarray(single.peak_year())[0] == peak_year[row]
