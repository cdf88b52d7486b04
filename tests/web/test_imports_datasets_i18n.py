"""The import pages of issue 13 (every dataset, modes, closing rows, rejected registry tables) in zh_CN show no
English sentence or raw identifier (the checks of test_i18n_pages.py, on these pages only)."""

from __future__ import annotations

import pytest

from tests.web.conftest import HAS_IMPORTS
from tests.web.test_i18n_pages import problems_in, visible_text

pytestmark = pytest.mark.skipif(not HAS_IMPORTS, reason="citycarbon.store.imports is not installed")

FILES = {
    "years": ("pop.csv", b"year,region,variable,value,unit\n2024,210200,population,1.0,10^4 person\n", "years"),
    "bad capacity": ("cap.csv", b"year,region,technology,capacity,unit\n2024,210200,wind_onshor,5,ha\n"
                                b"2024,210200,solar_utility,-1,MW\n2024,210200,solar_utility,x,MW\n", "keys"),
    "bad monthly": ("m.csv", b"year,month,region,variable,value,unit\n2024,13,210200,key_unit_energy,1,tce\n"
                             b"2024,1,210200,key_unit_energy_tce,1,m3\n", "keys"),
    "monthly feed": ("feed.csv", b"year,month,region,variable,value,unit,status,source\n"
                                 b"2015,1,210200,key_unit_energy_tce,1.0,tce,reported,lake\n", "years"),
    "district statistics": ("d.csv", b"year,region,variable,value,unit\n"
                                     b"2024,210211,energy_consumption,500,10^4 tce\n2024,210211,gdp,1500,10^8 CNY\n"
                                     b"2024,210211,population,120,10^4 person\n", "keys"),
    "bad nbs": ("n.csv", "2023年大连市能源平衡表(实物量)\n项目,原煤(万吨),焦炭(万吨)\n外省调入,1,2\n回收能,3,\n"
                         "一次能源生产量,abc,\n".encode(), "keys"),
}


def test_the_import_pages_of_every_dataset_are_chinese(fresh_web_env):
    env = fresh_web_env
    env.new_session("admin")
    findings: dict[str, set[str]] = {}
    pages = ["/imports"]
    for name, (filename, content, mode) in FILES.items():
        answer = env.as_user("admin").post("/imports?lang=zh_CN", data={"csrf_token": env.csrf("admin"),
                                                                        "mode": mode},
                                           files={"file": (filename, content, "text/csv")}, follow_redirects=False)
        assert answer.status_code in (303, 422), (name, answer.status_code)
        if answer.status_code == 303:
            pages.append(answer.headers["location"])
        else:
            for text in visible_text(answer.text):
                for problem in problems_in(text):
                    findings.setdefault(problem, set()).add(name)
    for page in pages:
        response = env.get(page + "?lang=zh_CN", user="admin")
        assert response.status_code == 200, page
        for text in visible_text(response.text):
            for problem in problems_in(text):
                findings.setdefault(problem, set()).add(page)
    assert not findings, "\n".join(f"{p} ← {sorted(w)}" for p, w in findings.items())
