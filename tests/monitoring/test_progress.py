"""Progress of the long monitoring work — simulate, ingest, the chunked checks — through the progress protocol
(monotone counts ending at the total) and on the command line (bar on stderr, stdout unchanged)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.monitoring.ingest import ingest_files
from citycarbon.monitoring.registry import load_registry
from citycarbon.monitoring.simulate import write_city
from tests.progress_recorder import Recorder

runner = CliRunner()


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    record = Recorder()
    write_city(5, 1, 3, out, seed=6, chunk=2, progress=record)
    return out, record


def test_simulate_counts_enterprises_chunk_by_chunk(city):
    _, record = city
    record.check_monotone_to(5)
    assert [c[0] for c in record.calls] == [0, 2, 4, 5]


def test_ingest_counts_files_and_reports_within_a_file(city, tmp_path):
    out, _ = city
    files = sorted((out / "readings").glob("*.parquet"))
    assert len(files) >= 2
    record = Recorder()
    reports = ingest_files(tmp_path / "lake", load_registry(out), files, chunk_rows=400, progress=record)
    record.check_monotone_to(len(files))
    assert sum(r.accepted for r in reports.values()) > 0
    finished = [label for done, _, label in record.calls if label and " " not in label]
    assert finished == [f.name for f in files]  # each file reported by name once it is done
    assert any(label.startswith(files[0].name + " ") for _, _, label in record.calls)  # and its chunks before


def test_score_rules_counts_enterprises(city):
    import pandas as pd

    from citycarbon.services.monitoring.checks import score_rules

    out, _ = city
    meta = json.loads((out / "city.json").read_text(encoding="utf-8"))
    record = Recorder()
    score_rules(load_registry(out), pd.read_parquet(out / "truth.parquet"), lake=out / "no-lake",
                readings=out / "readings", start=pd.Timestamp(meta["start"]), now=pd.Timestamp(meta["now"]),
                chunk=2, progress=record)
    record.check_monotone_to(5)
    assert [c[0] for c in record.calls] == [0, 2, 4, 5]


def test_cli_simulate_and_score_stdout_unchanged_by_the_bar(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    runs = {}
    for name, env, extra in (("shown", "always", []), ("quiet", "always", ["--quiet"]), ("plain", None, [])):
        if env is None:
            monkeypatch.delenv("CITYCARBON_PROGRESS", raising=False)
        else:
            monkeypatch.setenv("CITYCARBON_PROGRESS", env)
        out = tmp_path / "city"  # the same folder each time: the JSON names it
        simulated = runner.invoke(app, ["monitoring", "simulate", "--units", "3", "--points", "1", "--days", "2",
                                        "--out", str(out), "--seed", "1", "--format", "json", *extra])
        scored = runner.invoke(app, ["monitoring", "score", "--truth", str(out / "truth.parquet"), "--readings",
                                     str(out / "readings"), "--registry", str(out), "--chunk", "1", "--format",
                                     "csv", *extra])
        assert simulated.exit_code == 0 and scored.exit_code == 0, simulated.output + scored.output
        runs[name] = (simulated, scored)
    shown, quiet, plain = runs["shown"], runs["quiet"], runs["plain"]
    assert "3/3" in shown[0].stderr and "units" in shown[0].stderr and "3/3" in shown[1].stderr
    assert quiet[0].stderr == quiet[1].stderr == plain[0].stderr == plain[1].stderr == ""
    assert shown[0].stdout == quiet[0].stdout == plain[0].stdout  # JSON, byte-identical
    assert shown[1].stdout == quiet[1].stdout == plain[1].stdout  # CSV, byte-identical
    assert json.loads(shown[0].stdout)["enterprises"] == 3
    assert shown[1].stdout.splitlines()[0].startswith("fault_kind")


def test_cli_ingest_bar_counts_files(city, tmp_path, monkeypatch):
    out, _ = city
    files = sorted(str(p) for p in (out / "readings").glob("*.parquet"))
    monkeypatch.setenv("CITYCARBON_PROGRESS", "always")
    monkeypatch.setenv("COLUMNS", "200")
    common = ["--registry", str(out), "--format", "json"]
    shown = runner.invoke(app, ["monitoring", "ingest", *files, "--lake", str(tmp_path / "a"), *common])
    quiet = runner.invoke(app, ["monitoring", "ingest", *files, "--lake", str(tmp_path / "b"), *common, "-q"])
    assert shown.exit_code == 0 and quiet.exit_code == 0, shown.output + quiet.output
    assert f"{len(files)}/{len(files)}" in shown.stderr and "files" in shown.stderr
    assert f"{len(files)}/{len(files)}" not in quiet.stderr
    first, second = json.loads(shown.stdout), json.loads(quiet.stdout)
    assert set(first) == set(second) == set(files)
    assert {k: v["accepted"] for k, v in first.items()} == {k: v["accepted"] for k, v in second.items()}


def test_file_ingest_gives_the_same_lake_whatever_the_chunk_size(city, tmp_path):
    """Small chunks once failed on cumulative meters (a categorical point id made the register maximum
    categorical: "cannot perform the numpy op add"); the lake's content must not depend on the chunking."""
    from citycarbon.monitoring.lake import Lake, content_frame

    out, _ = city
    files = sorted((out / "readings").glob("*.parquet"))
    contents = []
    for rows in (400, 100, 37):
        ingest_files(tmp_path / f"lake{rows}", load_registry(out), files, chunk_rows=rows)
        frame = content_frame(Lake.open(tmp_path / f"lake{rows}"))
        contents.append(frame.sort_values(["point_id", "end"], ignore_index=True))
    assert len(contents[0]) > 0
    for other in contents[1:]:
        pd.testing.assert_frame_equal(other, contents[0])
