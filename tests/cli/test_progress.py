"""The progress protocol (citycarbon.progress) and its CLI renderer (citycarbon.cli.progress): when a bar is drawn,
where it goes (stderr only), and that --quiet / CITYCARBON_PROGRESS=never switch it off."""

from __future__ import annotations

import io
import sys

import pytest

from citycarbon.cli import progress as cli_progress
from citycarbon.cli.progress import PROGRESS_ENV, progress_bars, progress_mode
from citycarbon.progress import no_progress, or_silent, track


class Recorder:
    def __init__(self):
        self.calls: list[tuple[int, int | None, str]] = []

    def __call__(self, done, total, label="", /):
        self.calls.append((done, total, label))


def test_track_reports_finished_items_up_to_the_total():
    record = Recorder()
    seen = []
    for item in track(["a.csv", "b.csv", "c.csv"], record):
        seen.append((item, len(record.calls)))  # the item is reported only once the caller is done with it
    assert [item for item, _ in seen] == ["a.csv", "b.csv", "c.csv"]
    assert [n for _, n in seen] == [1, 2, 3]
    assert record.calls == [(0, 3, ""), (1, 3, "a.csv"), (2, 3, "b.csv"), (3, 3, "c.csv")]


def test_track_without_a_length_ends_with_the_count_as_total():
    record = Recorder()
    assert list(track((x for x in range(4)), record, label="x")) == [0, 1, 2, 3]
    assert record.calls[0] == (0, None, "x") and record.calls[-1] == (4, 4, "x")
    assert [c[0] for c in record.calls] == [0, 1, 2, 3, 4, 4]


def test_or_silent_and_no_progress():
    assert or_silent(None) is no_progress
    record = Recorder()
    assert or_silent(record) is record
    assert no_progress(1, 2, "x") is None


@pytest.mark.parametrize(("value", "mode"), [(None, "auto"), ("auto", "auto"), ("always", "always"), ("1", "always"),
                                             ("never", "never"), ("0", "never"), ("bogus", "auto")])
def test_progress_mode_of_the_environment(monkeypatch, value, mode):
    if value is None:
        monkeypatch.delenv(PROGRESS_ENV, raising=False)
    else:
        monkeypatch.setenv(PROGRESS_ENV, value)
    assert progress_mode() == mode


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _work(bars, n: int = 5) -> None:
    report = bars.task("任务 / work", "files")
    for done in range(n + 1):
        report(done, n, f"f{done}")


def test_forced_bar_goes_to_stderr_only_with_counts(monkeypatch, capsys):
    monkeypatch.setenv(PROGRESS_ENV, "always")
    monkeypatch.setenv("COLUMNS", "200")
    with progress_bars() as bars:
        assert bars.enabled
        _work(bars)
    out, err = capsys.readouterr()
    assert out == ""
    assert "任务 / work" in err and "5/5" in err and "files" in err


def test_quiet_and_never_draw_nothing(monkeypatch, capsys):
    monkeypatch.setenv(PROGRESS_ENV, "always")
    with progress_bars(quiet=True) as bars:
        assert not bars.enabled and bars.task("x") is no_progress
        _work(bars)
    monkeypatch.setenv(PROGRESS_ENV, "never")
    with progress_bars() as bars:
        assert not bars.enabled
        _work(bars)
    assert capsys.readouterr() == ("", "")


def test_auto_draws_only_on_a_terminal_and_only_after_a_while(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    pipe = io.StringIO()  # not a terminal: nothing
    monkeypatch.setattr(sys, "stderr", pipe)
    with progress_bars() as bars:
        assert not bars.enabled
        _work(bars)
    assert pipe.getvalue() == ""
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_bars() as bars:  # a terminal, but the work ends before SHOW_AFTER: nothing drawn
        assert bars.enabled
        _work(bars)
    assert terminal.getvalue() == ""
    monkeypatch.setattr(cli_progress, "SHOW_AFTER", 0.0)
    with progress_bars() as bars:  # long work (threshold 0): drawn, and erased at the end (transient)
        _work(bars)
    drawn = terminal.getvalue()
    assert "5/5" in drawn and "\x1b[2K" in drawn


def test_the_bar_is_erased_when_the_work_fails(monkeypatch, capsys):
    monkeypatch.setenv(PROGRESS_ENV, "always")
    with pytest.raises(RuntimeError), progress_bars() as bars:
        bars.task("x", "runs")(1, 10, "")
        raise RuntimeError("boom")
    err = capsys.readouterr().err
    assert "1/10" in err and err.rstrip().endswith("\x1b[2K")


def test_a_long_step_without_reports_is_drawn_after_the_delay(monkeypatch):
    import time

    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(cli_progress, "SHOW_AFTER", 0.05)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_bars() as bars, bars.step("建模 / model", "dalian"):
        deadline = time.monotonic() + 5
        while "建模 / model" not in terminal.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)  # no report comes while the model builds; the timer draws the spinner
        assert "建模 / model" in terminal.getvalue()
    assert "dalian" in terminal.getvalue() and "1/1" in terminal.getvalue()
