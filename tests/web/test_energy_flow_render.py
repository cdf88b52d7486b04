"""The accounting page's Sankey spec drawn by the vendored ECharts itself (server-side SVG in node, so it runs
where chromium is missing): every node is drawn with its translated label, and ECharts accepts the graph
(it refuses a cyclic one), for both electricity methods and a few years."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

NODE = shutil.which("node")
HERE = Path(__file__).resolve().parent
ECHARTS = HERE.parents[1] / "src" / "citycarbon" / "web" / "static" / "vendor" / "echarts.min.js"

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


@pytest.mark.parametrize(("year", "method"), [(2022, "coal-equivalent"), (2022, "calorific"), (2016, None)])
def test_echarts_draws_every_node_of_the_sankey(tmp_path, year, method):
    from citycarbon.web import views
    from citycarbon.web.data import DataSource
    from citycarbon.web.i18n import Formatter

    choices = (("method", method),) if method else ()
    view = views.accounting_view(DataSource("dalian").snapshot(), None, Formatter("zh_CN"), year, choices)
    spec = view["flow"]["spec"]
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([NODE, str(HERE / "sankey_ssr.js"), str(ECHARTS), str(path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    drawn = json.loads(done.stdout.strip().splitlines()[-1])
    assert drawn["labelled"] == len(spec["nodes"]) and drawn["paths"] >= len(spec["links"])
