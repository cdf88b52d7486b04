"""Progress of ensembles and sensitivity samples: reported per chunk of runs (monotone, ending at the total),
the result bit-identical whatever the chunking and whether anyone listens, and the CLI's JSON/CSV stdout
byte-identical with and without the bar (the bar goes to stderr)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import numpy as np
import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.pathways.sensitivity import morris, sobol
from citycarbon.pathways.uncertainty import ensemble
from tests.pathways.test_uncertainty_cli import SCENARIOS, ToyModel
from tests.progress_recorder import Recorder

runner = CliRunner()


def test_ensemble_reports_each_chunk_and_chunking_changes_no_bit():
    model, plan = ToyModel(), SCENARIOS["Plan"]
    record = Recorder()
    chunked = ensemble(model, plan, 50, 11, chunk=7, progress=record)
    record.check_monotone_to(50)
    assert [c[0] for c in record.calls] == [0, 7, 14, 21, 28, 35, 42, 49, 50]  # one report per batch of 7 runs
    whole = ensemble(model, plan, 50, 11, chunk=1024)
    assert np.array_equal(chunked.sample, whole.sample)
    assert np.array_equal(chunked.peak_year, whole.peak_year)
    assert np.array_equal(chunked.peak_value, whole.peak_value)
    assert chunked.series.keys() == whole.series.keys()
    for name in whole.series:
        assert np.array_equal(chunked.series[name], whole.series[name])
    for target in whole.margin:
        assert np.array_equal(chunked.margin[target], whole.margin[target])
        assert np.array_equal(chunked.met[target], whole.met[target])


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_reports_every_run_and_results_do_not_change(method):
    model, plan = ToyModel(), SCENARIOS["Plan"]
    record = Recorder()
    if method == "sobol":
        listened = sobol(model, plan, 32, seed=3, chunk=50, progress=record)
        silent = sobol(model, plan, 32, seed=3, chunk=1024)
    else:
        listened = morris(model, plan, 8, seed=3, chunk=9, progress=record)
        silent = morris(model, plan, 8, seed=3, chunk=1024)
    record.check_monotone_to(listened.runs)
    assert len(record.calls) > 2
    assert listened.factors == silent.factors and listened.second_order == silent.second_order


@pytest.fixture
def toy(monkeypatch):
    import citycarbon.cli.pathway_analysis as module

    monkeypatch.setattr(module, "load_model_and_scenario", lambda city, name, source=None: (ToyModel(),
                                                                                           SCENARIOS[name]))
    monkeypatch.delenv("CITYCARBON_DASK_SCHEDULER", raising=False)

    class FixedClock(datetime):  # provenance's computed_at: the same in every run
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 1, tzinfo=UTC)

    monkeypatch.setattr("citycarbon.provenance.datetime", FixedClock)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize(("command", "fmt", "total"), [
    (["ensemble", "-s", "Plan", "--runs", "300", "--chunk", "64"], "json", 300),
    (["ensemble", "-s", "Plan", "--runs", "300", "--chunk", "64"], "csv", 300),
    (["sensitivity", "-s", "Plan", "--n", "16", "--method", "sobol"], "json", 16 * 10),
])
def test_cli_bar_on_stderr_and_stdout_unchanged(toy, monkeypatch, command, fmt, total):
    args = ["pathway", *command, "--format", fmt]
    monkeypatch.setenv("CITYCARBON_PROGRESS", "always")
    shown = runner.invoke(app, args)
    quiet = runner.invoke(app, [*args, "--quiet"])
    monkeypatch.delenv("CITYCARBON_PROGRESS")
    plain = runner.invoke(app, args)  # stderr is not a terminal here: no bar by default
    for result in (shown, quiet, plain):
        assert result.exit_code == 0, result.output
    assert f"{total}/{total}" in shown.stderr and "runs" in shown.stderr
    assert quiet.stderr == "" and plain.stderr == ""
    assert shown.stdout == quiet.stdout == plain.stdout  # byte-identical
    if fmt == "json":
        assert json.loads(shown.stdout)["runs"] == total
    else:
        rows = list(csv.DictReader(io.StringIO(shown.stdout)))
        assert rows and rows[0]["指标 / indicator"].startswith("P(")


def test_dask_chunks_report_as_they_complete_and_the_result_keeps_its_order():
    distributed = pytest.importorskip("distributed", reason="the 'cluster' extra is not installed")
    model, plan = ToyModel(), SCENARIOS["Plan"]
    record = Recorder()
    with (distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0")
          as cluster, distributed.Client(cluster) as client):
        on_dask = ensemble(model, plan, 40, 5, chunk=9, dask=client, progress=record)
    record.check_monotone_to(40)
    assert len(record.calls) == 1 + 5  # 0, then one report per chunk of 9 (in completion order)
    serial = ensemble(model, plan, 40, 5, chunk=40)
    assert np.array_equal(on_dask.peak_value, serial.peak_value)
    for name in serial.series:
        assert np.array_equal(on_dask.series[name], serial.series[name])


@pytest.mark.parametrize("scenario", ["BAU", "Plan"])
def test_seek_reports_its_steps_and_gives_the_same_answer(scenario):
    from citycarbon.pathways.goalseek import SEEK_STEPS, seek

    model = ToyModel()
    record = Recorder()
    listened = seek(model, SCENARIOS[scenario], seed=2, progress=record)
    record.check_monotone_to(SEEK_STEPS)
    silent = seek(model, SCENARIOS[scenario], seed=2)
    assert listened.to_dict() | {"provenance": None} == silent.to_dict() | {"provenance": None}
    assert len(record.calls) >= 3


def test_cli_seek_bar_on_stderr_stdout_unchanged(toy, monkeypatch):
    args = ["pathway", "seek", "-s", "BAU", "--format", "json"]
    monkeypatch.setenv("CITYCARBON_PROGRESS", "always")
    shown = runner.invoke(app, args)
    quiet = runner.invoke(app, [*args, "-q"])
    assert shown.exit_code == 0 and quiet.exit_code == 0, shown.output + quiet.output
    assert "6/6" in shown.stderr and quiet.stderr == ""
    assert shown.stdout == quiet.stdout and json.loads(shown.stdout)["levers"]
