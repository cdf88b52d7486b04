"""The unit registry's disk cache (iam-units, ``IAM_UNITS_CACHE``) under processes that start together on a
fresh install, and after a writer was killed halfway: every process gets a working registry."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "from citycarbon.units import convert; print(convert(1.0, 'tce', 'GJ'))"


def _start(cache) -> subprocess.Popen:
    env = {**os.environ, "IAM_UNITS_CACHE": str(cache)}
    return subprocess.Popen([sys.executable, "-c", PROBE], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_processes_starting_together_on_an_empty_cache_all_get_the_registry(tmp_path):
    for attempt in range(3):
        cache = tmp_path / f"cache{attempt}"
        processes = [_start(cache) for _ in range(4)]
        for process in processes:
            out, err = process.communicate(timeout=240)
            assert process.returncode == 0, err[-2000:]
            assert abs(float(out) - 29.307) < 1e-9  # GB/T 2589: 1 tce = 29.307 GJ


def test_a_half_written_cache_is_built_again(tmp_path):
    cache = tmp_path / "cache"
    first = _start(cache)
    _, err = first.communicate(timeout=240)
    assert first.returncode == 0, err[-2000:]
    written = [p for p in cache.rglob("*") if p.is_file() and p.name != ".lock"]
    assert written  # the registry was cached
    for path in written:
        path.write_bytes(b"")  # what a writer killed after opening its file leaves
    again = _start(cache)
    out, err = again.communicate(timeout=240)
    assert again.returncode == 0, err[-2000:]
    assert abs(float(out) - 29.307) < 1e-9


def test_a_cache_naming_files_that_are_gone_is_built_again(tmp_path):
    """A cache written through another path to the environment (a virtualenv reached through a link that was
    removed since) names definition files that no longer exist: it is dropped and built again."""
    cache = tmp_path / "cache"
    first = _start(cache)
    _, err = first.communicate(timeout=240)
    assert first.returncode == 0, err[-2000:]
    stale = 0
    for path in (p for p in cache.rglob("*") if p.is_file() and p.name != ".lock"):
        data = path.read_bytes()
        if b"site-packages" in data:  # same length, so the pickle stays readable; the paths now point nowhere
            path.write_bytes(data.replace(b"site-packages", b"site-packagez"))
            stale += 1
    assert stale
    again = _start(cache)
    out, err = again.communicate(timeout=240)
    assert again.returncode == 0, err[-2000:]
    assert abs(float(out) - 29.307) < 1e-9
