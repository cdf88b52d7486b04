"""Ensembles and Sobol samples on a local Dask cluster give bit-identical results to the in-process run."""

from __future__ import annotations

import numpy as np
import pytest

from citycarbon.errors import InputError
from citycarbon.pathways.distributed import resolve_client
from citycarbon.pathways.sensitivity import sobol
from citycarbon.pathways.uncertainty import ensemble

distributed = pytest.importorskip("distributed", reason="the 'cluster' extra (dask distributed) is not installed")

YEARS = np.arange(2020, 2061)


class Table:
    def __init__(self):
        self.names = ["lever", "growth", "factor"]
        self.default = [0.5, 0.02, 1.0]
        self.low = [0.0, 0.0, 0.8]
        self.high = [1.0, 0.05, 1.2]
        self.group = ["efficiency", "growth", "grid"]
        self.kind = ["lever", "uncertain", "uncertain"]
        self.direction = [1, 0, 0]
        self.unit = ["1", "1/a", "1"]
        self.source = ["toy"] * 3


class Output:
    def __init__(self, co2: np.ndarray):
        self.years = YEARS
        self.series = {"co2_emissions_t": co2}

    def peak_year(self) -> np.ndarray:
        return self.years[np.argmax(self.series["co2_emissions_t"], axis=1)]

    def peak_value(self) -> np.ndarray:
        return self.series["co2_emissions_t"].max(axis=1)

    def targets(self) -> dict:
        peak = self.peak_year()
        return {"peak_2030": (peak <= 2030, 2030.0 - peak)}


class RisingThenFalling:
    """CO2 grows with 'growth', falls with the lever from 2025; peak year varies between runs."""

    def __init__(self):
        self.parameters = Table()

    def vector(self, scenario: object) -> np.ndarray:
        return np.array(self.parameters.default, dtype=float)

    def evaluate(self, X: np.ndarray) -> Output:
        t = (YEARS - 2020)[None, :]
        cut = X[:, 0:1] * np.clip((YEARS[None, :] - 2025) / 15.0, 0.0, 1.0)
        return Output(1000.0 * X[:, 2:3] * np.exp(X[:, 1:2] * t) * (1.0 - cut))


@pytest.fixture(scope="module")
def client():
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                   dashboard_address=":0") as cluster,
          distributed.Client(cluster) as dask_client):
        yield dask_client


@pytest.mark.timeout(60)
def test_ensemble_on_dask_is_bit_identical_to_the_serial_run(client):
    model = RisingThenFalling()
    serial = ensemble(model, "Plan", runs=3000, seed=2026)
    on_dask = ensemble(model, "Plan", runs=3000, seed=2026, dask=client, chunk=400)
    assert serial.sample.tobytes() == on_dask.sample.tobytes()
    assert serial.series["co2_emissions_t"].tobytes() == on_dask.series["co2_emissions_t"].tobytes()
    assert serial.peak_year.tobytes() == on_dask.peak_year.tobytes()
    assert serial.met["peak_2030"].tobytes() == on_dask.met["peak_2030"].tobytes()
    one, two = serial.to_dict(), on_dask.to_dict()
    one.pop("provenance"), two.pop("provenance")
    assert one == two
    assert 0.0 < one["p_peak_by_2030"] < 1.0


@pytest.mark.timeout(60)
def test_sobol_on_dask_is_identical_to_the_serial_run(client):
    model = RisingThenFalling()
    serial = sobol(model, "Plan", 128, seed=3, second_order=False)
    on_dask = sobol(model, "Plan", 128, seed=3, second_order=False, dask=client, chunk=100)
    assert serial.factors == on_dask.factors


@pytest.mark.timeout(60)
def test_a_scheduler_address_is_used_and_the_client_made_for_it_is_closed(client):
    address = client.scheduler.address
    serial = ensemble(RisingThenFalling(), "Plan", runs=200, seed=1)
    remote = ensemble(RisingThenFalling(), "Plan", runs=200, seed=1, dask=address, chunk=64)
    assert serial.series["co2_emissions_t"].tobytes() == remote.series["co2_emissions_t"].tobytes()


def test_no_configured_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("CITYCARBON_DASK_SCHEDULER", raising=False)
    with pytest.raises(InputError, match="CITYCARBON_DASK_SCHEDULER"), resolve_client(True):
        pass
    with pytest.raises(InputError, match="dask must be"), resolve_client(42):
        pass


@pytest.mark.timeout(60)
def test_cli_ensemble_with_scheduler_matches_the_in_process_run(client, monkeypatch):
    import json

    from typer.testing import CliRunner

    import citycarbon.cli.pathway_analysis as module
    from citycarbon.cli import app

    monkeypatch.setattr(module, "load_model_and_scenario", lambda city, name, source=None: (RisingThenFalling(), name))
    monkeypatch.delenv("CITYCARBON_DASK_SCHEDULER", raising=False)
    runner = CliRunner()
    args = ["pathway", "ensemble", "--scenario", "Plan", "--runs", "500", "--seed", "9", "--format", "json"]
    serial = runner.invoke(app, args)
    remote = runner.invoke(app, [*args, "--scheduler", client.scheduler.address, "--chunk", "100"])
    assert serial.exit_code == 0 and remote.exit_code == 0, remote.output
    one, two = json.loads(serial.stdout), json.loads(remote.stdout)
    one.pop("provenance"), two.pop("provenance")
    assert one == two
    monkeypatch.setenv("CITYCARBON_DASK_SCHEDULER", client.scheduler.address)
    from_env = json.loads(runner.invoke(app, args).stdout)
    from_env.pop("provenance")
    assert from_env == one


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_dalian_ensemble_on_worker_processes_is_bit_identical(model):
    """The shipped model pickled to two worker processes (as on a real cluster) gives the in-process result."""
    from citycarbon.pathways import load_scenario

    plan = load_scenario("Plan")
    serial = ensemble(model, plan, runs=600, seed=11)
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   worker_dashboard_address=":0") as cluster,
          distributed.Client(cluster) as dask_client):
        remote = ensemble(model, plan, runs=600, seed=11, dask=dask_client, chunk=150)
    for name in serial.series:
        assert serial.series[name].tobytes() == remote.series[name].tobytes(), name
    assert serial.peak_year.tobytes() == remote.peak_year.tobytes()
    assert {t: m.tobytes() for t, m in serial.met.items()} == {t: m.tobytes() for t, m in remote.met.items()}
