"""Every HTML page of the cockpit, as every role, in Chinese: no English sentence, no raw identifier, no Python
literal reaches the reader (issue 12, item 7).

The pages are found from the app's routes (every GET route outside ``/api``, ``/static`` and the machine
endpoints), so a page added later is checked without editing this file; a path parameter needs a sample
value in :data:`PATH_SAMPLES` (the test fails naming the route otherwise). Each page is rendered in zh_CN for
admin, analyst, a district user, an enterprise user, a viewer and a department user (the 403/404 pages they get
are pages too), plus the query variants that show other states (another year, the empty state, HTMX partials).

What the reader sees is the text outside ``<script>``/``<style>`` (the JSON chart blocks are data for
charts.js; their labels are checked by the view tests) plus the ``title``, ``placeholder``, ``aria-label`` and
``alt`` attributes. Three checks, each with a short, justified allow-list:

(a) an English sentence: three or more consecutive ASCII words of letters (joined by spaces or ASCII
    punctuation), none of which is in
    :data:`ALLOWED_WORDS` (units, abbreviations and proper names that Chinese texts print in Latin letters);
(b) a raw identifier: a ``snake_case`` token (``gdp_10k_yuan``), outside file names (``energy_balance.csv``,
    shown in the provenance of the accounts as the auditor needs them);
(c) a Python literal: ``True``, ``False``, ``None`` or a list or dict repr (``['…'``, ``{'…'``);
(d) a bare code: a whole text (a table cell, a badge) that is one lowercase ASCII word or dotted name
    (``unverified``, ``import.upload``): an identifier or an English label left untranslated.

Verbatim data are not the page's language and are left out: ``<code>``/``<pre>`` (values as they stand in an
uploaded file, record keys, the audit log's before/after JSON, factor ids) and ``<cite>`` (titles of the
standards and documents a figure cites, in the document's own language), and a value quoted “…” in a problem
message (what the uploaded file holds, as it holds it).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from citycarbon.web.i18n import Formatter, load_catalog, load_translations
from tests.web.conftest import PEOPLE

ROLES = ("admin", "analyst", "district-a", "enterprise-x", "viewer", "dept-miit")
VISITORS = (*ROLES, None)  # None: not logged in (the login pages; the others redirect to them)
OWN = next(p[3] for p in PEOPLE if p[0] == "enterprise-x")

#: Latin-letter words a Chinese page may show: units (万tce, tCO₂, kWh, MW, GW, t C/ha/yr) and abbreviations
#: Chinese texts print in Latin letters (GDP, CO₂, LMDI, IPCC, IAMC, PDF, API, TOTP, ECharts, GB/T). A word
#: belongs here only if a Chinese official document would print it untranslated too.
ALLOWED_WORDS = frozenset({
    "tce", "tCO", "kWh", "MW", "GW", "t", "C", "ha", "yr",
    "GDP", "CO", "LMDI", "IPCC", "IAMC", "PDF", "API", "TOTP", "ECharts", "GB", "T",
})

HAN = re.compile(r"[\u4e00-\u9fff]")
SENTENCE = re.compile(r"[A-Za-z]+(?:[\s:;,()'\"/>-]+[A-Za-z]+){2,}")  # words joined by spaces or ASCII punctuation
IDENTIFIER = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-]|\.\w)")
FILE_NAME = re.compile(r"[\w.-]+\.(?:csv|xlsx|yaml|yml|json|parquet|txt|docx|pdf)\b")
QUOTED = re.compile(r"“[^”]*”")  # a value quoted from the reader's own file in a problem message
PYTHON_LITERAL = re.compile(r"\b(?:True|False|None)\b|[\[{]\s*'")
BARE_CODE = re.compile(r"[a-z][a-z0-9_]{2,}(?:\.[a-z][a-z0-9_]*)*")


class _Text(HTMLParser):
    SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "code", "pre", "cite"})
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ("title", "placeholder", "aria-label", "alt")

    def __init__(self, skip_lang: str | None = None):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: list[str] = []  # open elements whose text is left out
        self.skip_lang = skip_lang  # elements marked lang="<this>…" (the other language's name in the switch)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in self.SKIP or (self.skip_lang and (values.get("lang") or "").startswith(self.skip_lang)):
            self._skip.append(tag)
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str, skip_lang: str | None = None) -> list[str]:
    parser = _Text(skip_lang)
    parser.feed(html)
    return parser.parts


def problems_in(text: str) -> list[str]:
    """The English sentences, raw identifiers and Python literals in one piece of visible text."""
    found = []
    bare = QUOTED.sub("“”", FILE_NAME.sub(" ", text))
    for match in SENTENCE.finditer(bare):
        words = re.findall(r"[A-Za-z]+", match.group(0))
        run = 0
        for word in words:
            run = 0 if word in ALLOWED_WORDS else run + 1
            if run >= 3:
                found.append(f"English: {match.group(0)!r} in {text[:100]!r}")
                break
    found += [f"identifier: {m.group(0)!r} in {text[:100]!r}" for m in IDENTIFIER.finditer(bare)]
    if BARE_CODE.fullmatch(bare.strip()) and bare.strip() not in ALLOWED_WORDS:
        found.append(f"bare code: {bare.strip()!r}")
    found += [f"Python literal: {m.group(0)!r} in {text[:80]!r}" for m in PYTHON_LITERAL.finditer(text)]
    return found


def test_the_checks_catch_what_the_tester_found():
    """The detector itself: each complaint of the issue is caught, Chinese text with units is not."""
    assert problems_in("log-linear OLS trend over the last years")
    assert problems_in("no data in the window") and problems_in("annual: stock change 2023->2024")
    assert problems_in("feedstock_tce") and problems_in("盐沼 salt_marsh")
    assert problems_in("unverified") and problems_in("import.upload") and not problems_in("kWh")
    assert problems_in("True") and problems_in("None") and problems_in("['power', 'heat_supply']")
    assert problems_in("{'spike': 2}")
    assert not problems_in("3,245.7 万tce") and not problems_in("GB/T 2589-2020 综合能耗计算通则")
    assert problems_in("未知变量 gdp_secundary") and not problems_in("未知变量“gdp_secundary”")
    assert not problems_in("能源平衡表 energy_balance.csv") and not problems_in("LMDI 分解 (CO2)")


def test_formatter_shows_labels_options_and_core_texts_in_each_language():
    zh, en = Formatter("zh_CN"), Formatter("en")
    assert zh.label("ecosystem", "salt_marsh") == "盐沼" and en.label("ecosystem", "salt_marsh") == "Salt marsh"
    assert zh.label("status", "unverified") == "未核实" and zh.label("ecosystem", "no_such_thing") == "no_such_thing"
    assert (zh.option(True), zh.option(False), zh.option(None)) == ("是", "否", "–")
    assert (en.option(True), en.option(None)) == ("yes", "–")
    assert zh.option(["power", "heat_supply"]) == "发电、供热" and en.option(["power", "heat_supply"]) == (
        "power generation, heat supply")
    method = "log-linear OLS trend 2020–2024, 80% prediction interval of the intensity level"
    assert zh.text(method) == "2020–2024年对数线性最小二乘趋势,强度水平的 80% 预测区间" and en.text(method) == method
    # a placeholder shown by its label, one kept as a number
    assert zh.text("statistics: 67% of rows are estimates") == "统计数据:67% 的数据为估算值"
    assert en.text("process_activity: 100% of rows are estimates") == (
        "industrial process activity: 100% of rows are estimates")
    assert zh.text("unknown variable 'gdp_secundary'") == "未知变量“gdp_secundary”"
    # the store's and the monitoring's "中文 / English" texts: the reader's half; an unknown text as it is
    assert zh.text("计量点 P1 已 3.5 小时无数据 / no reading for 3.5 h") == "计量点 P1 已 3.5 小时无数据"
    assert en.text("计量点 P1 已 3.5 小时无数据 / no reading for 3.5 h") == "metering point P1: no reading for 3.5 h"
    assert en.text("用户名已存在 / the user name exists") == "the user name exists"
    assert zh.text("something else entirely") == "something else entirely"
    assert zh.record_key('[2024, "210200", "gdp_secondary", ""]') == "2024年 · 大连市 · 第二产业增加值"
    assert en.record_key('[2024, "210200", "final_consumption", "industry", "raw_coal"]') == (
        "2024 · Dalian · Final consumption · Industry · Raw coal")


# -- the pages ------------------------------------------------------------------------------------------------

GOOD_STATISTICS = """year,region,variable,value,unit,price_base_year,status,source
2024,210200,gdp,9516.9,10^8 CNY,,official,统计局
2024,210200,gdp_secondary,3349,10^8 CNY,,official,统计局
2024,210200,population,756.2,10^4 person,,official,统计局
"""
#: files with the importers' problems (unknown codes, units, signs, duplicates; a missing value; a balance's
#: flows and sectors), so that the rejected batch pages show each kind of problem message
BAD_FILES = {
    "statistics": """year,region,variable,value,unit,price_base_year,status,source
2024,210200,gdp,9516.9,10^8 CNY,,official,统计局
2024,210200,gdp_secundary,3349,10^8 CNY,,official,统计局
2024,210200,population,-756.2,10^4 person,,official,统计局
2024,210200,gdp,9516.9,10^8 CNY,,official,统计局
2024,210200,gdp_primary,585.7,kWh,,official,统计局
2024,999999,gdp_tertiary,5582.2,10^8 CNY,,offical,统计局
""",
    "balance": """year,region,flow,sector,fuel,quantity,unit
2024,210200,final_consumption,power,raw_coal,-5,t
2024,210200,transformation_input,industry,wind_power,3,kWh
2024,210200,final_consumption,industry,raw_coal,5,kWh
""",
    "": """year,region,variable,value,unit,price_base_year,status,source
2024,210200,gdp_tertiary,,10^8 CNY,,official,统计局
""",
}


#: the tiny monitored city's units: Chinese names (data, allowed on English pages) and districts; unit 1 is the
#: enterprise user's own
UNIT_NAMES = {"E00001": "自家测试企业甲", "E00002": "中山测试企业乙", "E00003": "西岗测试企业丙"}
UNIT_REGIONS = {"E00001": "210211", "E00002": "210202", "E00003": "210203"}


def _city_registry(city):
    from citycarbon.monitoring.registry import Registry

    ids = {"E00001": OWN}
    enterprises = city.enterprises.copy()
    enterprises["name"] = enterprises["enterprise_id"].map(UNIT_NAMES)
    enterprises["region"] = enterprises["enterprise_id"].map(UNIT_REGIONS)
    enterprises["enterprise_id"] = enterprises["enterprise_id"].replace(ids)
    points = city.points.copy()
    points["enterprise_id"] = points["enterprise_id"].replace(ids)
    products = city.products.copy()
    if len(products):
        products["enterprise_id"] = products["enterprise_id"].replace(ids)
    return Registry(enterprises, points, products, timezone=city.registry.timezone)


@pytest.fixture(scope="module")
def env(fresh_web_env):
    """The app with a tiny monitored city, a rejected and a validated import batch (the pages with data)."""
    from citycarbon.monitoring.ingest import ingest_frame
    from citycarbon.monitoring.lake import Lake
    from citycarbon.monitoring.simulate import simulate
    from citycarbon.store.monitoring_registry import save_registry

    city = simulate(3, 2, 3, seed=11)
    registry = _city_registry(city)
    save_registry(fresh_web_env.db, registry, "test")
    ingest_frame(Lake.open(fresh_web_env.settings.lake_dir), registry, city.readings, source="test")
    batches = []
    for kind, content in [*BAD_FILES.items(), ("statistics", GOOD_STATISTICS)]:
        response = fresh_web_env.post(
            "/imports", user="admin", data={"kind": kind},
            files={"file": ("upload-2024.csv", content.encode(), "text/csv")})
        assert response.status_code == 303, response.text[:300]
        batches.append(response.headers["location"].rsplit("/", 1)[-1])
    fresh_web_env.batches = batches
    plans = Path(__file__).parents[1] / "fixtures" / "subplans"  # "1+N": the plans page with data, a plan's page
    for name in ("zhuanghe", "energy"):
        response = fresh_web_env.post("/governance/plans", user="admin", data={"reason": "示例方案"}, files={
            "file": (f"{name}.yaml", (plans / f"{name}.yaml").read_bytes(), "application/yaml")})
        assert response.status_code == 200, response.text[:300]
    _supervision_item(fresh_web_env)
    from tests.governance.rounds_support import open_q4

    open_q4(fresh_web_env.db)  # a quarterly round over task 4: filing 1 is miit's (dept-miit's own; 404 for others)
    _project_sample(fresh_web_env)
    _energy_project(fresh_web_env)
    _assess_sample(fresh_web_env)  # issue 16 (web)
    return fresh_web_env


def _project_sample(env) -> None:
    """Issue 15: project XM-2026-0001 (瓦房店, the issue's example) filed through the registry, submitted, checked
    and commented (the review page with a timeline and the office's forms), holding part of an energy-room source
    (the ledger and allocation pages with data)."""
    from citycarbon.services.projects import ledgers, workflow
    from citycarbon.services.projects import registry as project_registry
    from tests.projects.support import OFFICE
    from tests.projects.test_registry_service import body as project_body

    code = project_registry.create_project(env.db, OFFICE, "dalian", project_body()).view.code
    workflow.submit(env.db, OFFICE, "dalian", code)
    workflow.check_completeness(env.db, OFFICE, "dalian", code)
    workflow.comment(env.db, OFFICE, "dalian", code, "能效水平介于标杆和基准之间，请补充节能措施",
                     attachments=[("专家意见.pdf", b"%PDF-1.4 i18n")])
    ledgers.add_source(env.db, OFFICE, "dalian", {"code": "NH-2026-01", "kind": "energy", "amount": "5000",
                                                  "unit": "tce", "origin": "closure", "region_code": "210281",
                                                  "document": "大工信发〔2026〕1号", "plant": "某焦化厂"})
    ledgers.allocate(env.db, OFFICE, "dalian", code, "NH-2026-01", "1000", "tce")


def _energy_project(web_env) -> None:
    """An energy project of the registry (issue 15 item 6), so its page renders with data."""
    from citycarbon.auth.principal import Principal, Role
    from citycarbon.services.projects.energy_projects import list_energy_projects, register_energy_project

    office = Principal(1, "admin", Role.admin, city="dalian")
    if not any(p.code == "EP-SAMPLE-1" for p in list_energy_projects(web_env.db, office, "dalian")):
        register_energy_project(web_env.db, office, "dalian", {
            "code": "EP-SAMPLE-1", "name": "示例风电项目", "technology": "wind_onshore", "region_code": "210202",
            "capacity_mw": 50, "stage": "approved", "approved_on": "2026-01-05", "status": "example"})


def _supervision_item(env) -> None:
    """A round filed late and scanned: supervision item 1 (of the department user's unit, miit)."""
    from datetime import date

    from citycarbon.auth.principal import Principal, Role
    from citycarbon.services.governance import supervision
    from tests.governance.test_supervision_services import make_round

    make_round(env.db, code="i18n-2026Q3", units=(("T05-M01", "miit"),))
    supervision.scan(env.db, Principal(1, "admin", Role.admin), "dalian", today=date(2026, 10, 20))


def _assess_sample(env) -> None:
    """Issue 16 (web): a draft assessment run of the districts for 2024 (run 1), scored with no fact collector
    (every fact missing: fast and independent of the data), so the board and a unit's breakdown render."""
    from citycarbon.auth.principal import Principal, Role
    from citycarbon.services.assessment import facts, runs

    facts._load_collectors()
    saved = dict(facts.COLLECTORS)
    facts.COLLECTORS.clear()
    try:
        view = runs.run_assessment(env.db, Principal(1, "admin", Role.admin, city="dalian"), "dalian", 2024)
    finally:
        facts.COLLECTORS.update(saved)
    assert view.run.id == 1


#: sample values of path parameters, per role (a role without a sample gets the first one)
PATH_SAMPLES = {
    "enterprise_id": {"enterprise-x": OWN, "default": "E00002"},
    # issue 14: an organisation and a measure of the registry (T04-M01 is led by miit: dept-miit sees it)
    "org_code": {"default": "miit"},
    "measure_code": {"default": "T04-M01"},
    "plan_code": {"default": "zhuanghe_2030"},  # a "1+N" sub-plan, registered by the env fixture
    "item_id": {"default": "1"},  # a supervision item (issue 14); tests/web/test_gov_supervision.py renders real ones
    "code": {"default": "2026Q4"},  # a governance round (tests/web/conftest.py, _governance_sample)
    "round_code": {"default": "2026Q4"},  # the round the env fixture opens (open_q4)
    "filing_id": {"default": "1"},
    # issue 15: the project the env fixture files, reviews and allocates to (_project_sample; district-a: 404)
    "project_code": {"default": "XM-2026-0001"},
    "energy_code": {"default": "EP-SAMPLE-1"},  # issue 15 item 6: registered by the env fixture (_energy_project)
    # issue 16 (web): the draft run the env fixture scores (_assess_sample) and 中山区's row (district-a's own)
    "run_id": {"default": "1"},
    "unit": {"default": "d210202"},
}
#: query variants rendered besides the bare path (other states of the same page)
VARIANTS = {
    "/accounting": ["?year=2020", "?year=1990", "?method=calorific",
                    "?year=2023&co2_factors=ipcc-cn-ncv&grid_factor=reporting&electricity_co2=consumption"],
    "/sinks": ["?year=2020"],
    "/decomposition": ["?measure=energy"],
    "/monitoring": ["?by=industry"],
    "/pathways": ["?scenario=Enhanced"],
    "/pathways/results": ["?scenario=Plan"],
    "/pathways/wedges": ["?scenario=Plan"],
    "/admin/audit": ["?actor=admin"],
    "/governance": ["?year=2026"],
    "/projects/pipeline": ["?year=2030"],
}
SKIPPED = {"/healthz", "/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect",
           "/imports/template",  # an .xlsx download (tests/web/test_imports_datasets.py)
           "/governance/supervision/{item_id}/notice.docx",  # a .docx download (tests/web/test_gov_supervision.py)
           # issue 15 item 5: downloads of the project workflow (tests/web/test_project_workflow_pages.py)
           "/projects/{project_code}/opinion.docx", "/projects/{project_code}/attachments/{attachment_id}"}
SKIPPED |= {"/reports/documents/{doc_id}"}  # issue 16 (web): a download (tests/web/test_reports_pages.py)
# issue 17 (web): the basis switch, the MACC's other year and the cost view of a what-if
VARIANTS["/pathways"] = [*VARIANTS["/pathways"], "?scenario=BAU&basis=consumption"]
VARIANTS["/pathways/results"] = [*VARIANTS["/pathways/results"], "?scenario=Plan&basis=territorial"]
VARIANTS["/pathways/macc"] = ["?scenario=Plan&year=2060", "?year=2045"]
VARIANTS["/pathways/costs"] = ["?scenario=Plan&offshore_wind_2030_mw=6000"]
#: pages whose every GET is slow (Monte-Carlo runs): rendered for one role
ONE_ROLE = {"/pathways/ensemble"}
# issue 17 (webunc): the LMDI beside the wedges in another year and with a bad year (the designed message)
VARIANTS["/pathways/wedges"] = [*VARIANTS["/pathways/wedges"], "?scenario=Plan&lmdi_year=2060", "?lmdi_year=2045"]


def html_routes(app) -> list[str]:
    paths = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for r in (contexts() if contexts is not None else [route]):
            path = getattr(r, "path_format", None) or getattr(r, "path", "")
            if "GET" not in (getattr(r, "methods", None) or set()):
                continue
            if path.startswith(("/api/", "/static")) or path in SKIPPED:
                continue
            paths.append(path)
    return sorted(set(paths))


def fill(path: str, user: str, batches: list[str]) -> list[str]:
    if "{batch_id}" in path:
        return [path.replace("{batch_id}", b) for b in batches]
    for name, samples in PATH_SAMPLES.items():
        path = path.replace("{" + name + "}", samples.get(user, samples["default"]))
    assert "{" not in path, f"no sample for a path parameter of {path}: add it to PATH_SAMPLES"
    return [path]


def test_every_page_as_every_role_is_chinese(env):
    routes = html_routes(env.client.app)
    assert {"/", "/accounting", "/sinks", "/imports/{batch_id}", "/admin/users"} <= set(routes)
    findings: dict[str, set[str]] = {}
    rendered_ok: set[str] = set()
    for route in routes:
        for user in ROLES[:1] if route in ONE_ROLE else VISITORS:
            if user is not None:
                env.new_session(user)
            for path in fill(route, user, env.batches):
                for variant in ["", *VARIANTS.get(route, [])]:
                    url = path + variant
                    for headers in ({}, {"HX-Request": "true"}) if route.startswith("/pathways/") else ({},):
                        response = env.get(url + ("&" if "?" in url else "?") + "lang=zh_CN", user=user,
                                           headers=headers)
                        if response.status_code in (204, 303, 307):
                            continue
                        if response.status_code == 200:
                            rendered_ok.add(route)
                        assert "text/html" in response.headers["content-type"], (url, user)
                        for text in visible_text(response.text):
                            for problem in problems_in(text):
                                findings.setdefault(problem, set()).add(f"{url} ({user})")
    unrendered = set(routes) - rendered_ok - {"/login/step"}  # the second login step: test_forms.py
    assert not unrendered, f"no role got these pages with a 200: {sorted(unrendered)}"
    report = "\n".join(f"{problem}  ← {', '.join(sorted(pages)[:3])}" for problem, pages in sorted(findings.items()))
    assert not findings, f"{len(findings)} untranslated texts on the zh_CN pages:\n{report}"


def test_refused_uploads_are_answered_in_chinese(env):
    """What an upload form answers when the file cannot be stored at all (kind, workbook, table)."""
    good = GOOD_STATISTICS.encode()
    answers = {
        "unknown kind": env.post("/imports", user="admin", data={"kind": "nonsense"},
                                 files={"file": ("a.csv", good, "text/csv")}),
        "broken workbook": env.post("/imports", user="admin", data={"kind": ""},
                                    files={"file": ("a.xlsx", b"PK\x03\x04 not a workbook", "application/zip")}),
        "unknown table": env.post("/imports", user="admin", data={"kind": ""},
                                  files={"file": ("a.csv", b"a,b\n1,2\n", "text/csv")}),
    }
    findings = {}
    for case, response in answers.items():
        assert response.status_code in (303, 413, 422), (case, response.status_code)
        page = env.get(response.headers["location"] + "?lang=zh_CN") if response.status_code == 303 else response
        texts = visible_text(page.text)
        assert any(HAN.search(t) for t in texts)
        for text in texts:
            for problem in problems_in(text):
                findings.setdefault(problem, set()).add(case)
    assert not findings, findings


def governance_names() -> set[str]:
    """Data the governance pages show verbatim (issue 14): the registry's unit names, the example sub-plans'
    titles and the reason the fixture registered them with."""
    import yaml

    from citycarbon.data import data_path, read_csv_file
    orgs = read_csv_file(data_path("dalian/governance/organisations.csv"), dtype=str)
    names = {*orgs["name_zh"].dropna(), *orgs["short_zh"].dropna()}
    for plan in (Path(__file__).parents[1] / "fixtures" / "subplans").glob("*.yaml"):
        names.add(yaml.safe_load(plan.read_text("utf-8"))["meta"]["title_zh"])
    return {*names, "示例方案"}


def test_english_pages_show_no_chinese_of_ours(env):
    """In English, Chinese may only be data (names of units, districts, the city), verbatim values or the
    language switch (marked lang="zh-CN"): the catalogs' en side and the core texts' en translations are used."""
    from citycarbon.codelists import load_codelist
    names = set(UNIT_NAMES.values()) | set(load_codelist("regions")["name_zh"]) | governance_names()
    findings: dict[str, set[str]] = {}
    for route in html_routes(env.client.app):
        if route in ONE_ROLE:
            continue
        for user in ("admin", "district-a", "enterprise-x"):
            env.new_session(user)
            for path in fill(route, user, env.batches):
                response = env.get(path + "?lang=en", user=user)
                if response.status_code in (204, 303, 307):
                    continue
                for text in visible_text(response.text, skip_lang="zh"):
                    rest = text
                    for name in sorted(names, key=len, reverse=True):
                        rest = rest.replace(name, "")
                    if HAN.search(rest):
                        findings.setdefault(text[:100], set()).add(f"{path} ({user})")
    report = "\n".join(f"{text!r}  ← {', '.join(sorted(pages)[:3])}" for text, pages in sorted(findings.items()))
    assert not findings, f"Chinese on the English pages:\n{report}"


# -- the catalogs ---------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
#: extraction keywords: Babel's defaults plus routes/pathways.py's ``_t(fmt, message)``
KEYWORDS = {**DEFAULT_KEYWORDS, "_t": (2,)}


def extracted_msgids() -> dict[tuple[str, str | None], str]:
    """Every msgid (with its context) that the templates and the web's Python code translate, found by Babel's
    extractor with the project's ``babel.cfg``; value: where it was found."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def test_every_extracted_msgid_is_in_both_catalogs():
    found = extracted_msgids()
    assert len(found) > 300  # the extractor read the templates and the code
    assert ("yes", None) in found  # and the Python code (Formatter.option's fmt.gettext("yes"))
    for locale in ("zh_CN", "en"):
        catalog = load_catalog(locale)
        missing = sorted(f"{msgid!r} ({where})" for (msgid, context), where in found.items()
                         if catalog.get(msgid, context=context) is None)
        assert not missing, f"{locale}: add to web/i18n/{locale}/LC_MESSAGES/*.po: {missing}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_catalogs_compile(locale):
    """The merged catalog compiles to a .mo (as the app does in memory) and reads back every entry."""
    catalog = load_catalog(locale)
    translations = load_translations(locale)
    for message in catalog:
        if message.id and isinstance(message.id, str):
            got = (translations.pgettext(message.context, message.id) if message.context
                   else translations.gettext(message.id))
            assert got == message.string, (locale, message.context, message.id)

def test_both_catalogs_hold_the_same_msgids():
    zh = {m.id for m in load_catalog("zh_CN") if m.id}
    en = {m.id for m in load_catalog("en") if m.id}
    assert zh - en == set(), f"msgids without an English entry: {sorted(zh - en)}"
    assert en - zh == set(), f"msgids without a Chinese entry: {sorted(en - zh)}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_no_fuzzy_or_empty_entry(locale):
    catalog = load_catalog(locale)
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    empty = sorted(m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string)))
    assert not fuzzy, f"{locale}: fuzzy entries: {fuzzy}"
    assert not empty, f"{locale}: empty translations: {empty}"


def _codes_of(path: str, column: str) -> set[str]:
    from citycarbon.data import read_csv

    return {str(v) for v in read_csv(path)[column].dropna()}


def test_every_code_of_the_shipped_data_has_a_label_in_both_languages():
    """Labels cover the codes the data can hold, not only those of the test pages: a new ecosystem, factor
    kind, process product, data status, role or statistics variable needs its label before it can show."""
    from citycarbon.auth import ROLES, SCOPES
    from citycarbon.importers.schemas import STATISTICS_VARIABLES, STATUSES

    factors = ("co2_fuel", "coal_rate", "grid_electricity", "grid_nonfossil_share", "heat", "process",
               "standard_coal")
    fuels = _codes_of("codelists/fuels.csv", "fuel")
    wanted = {
        "ecosystem": _codes_of("sinks/wetland_rates.csv", "ecosystem"),
        "factor-kind": set().union(*(_codes_of(f"factors/{name}.csv", "kind") for name in factors)),
        "factor-key": _codes_of("factors/process.csv", "key") - fuels,
        "status": set(STATUSES), "role": set(ROLES), "token-scope": set(SCOPES),
        "variable": set(STATISTICS_VARIABLES),
    }
    for locale in ("zh_CN", "en"):
        fmt = Formatter(locale)
        missing = {kind: sorted(c for c in codes if not fmt.has_label(kind, c)) for kind, codes in wanted.items()}
        assert {k: v for k, v in missing.items() if v} == {}, f"{locale}: add these labels to labels.po"


def test_text_patterns_use_only_their_own_placeholders():
    """A translation of a text pattern may only use the placeholders its English text defines (else the page
    would fail with a KeyError when the text occurs)."""
    placeholder = re.compile(r"\{(\w+)(?::[\w-]+)?\}")
    for locale in ("zh_CN", "en"):
        for message in load_catalog(locale):
            if message.context != "text-pattern" or not message.id:
                continue
            defined = set(placeholder.findall(message.id))
            used = set(placeholder.findall(str(message.string)))
            assert used <= defined, (locale, message.id, used - defined)
            assert defined, (locale, message.id, "a pattern without placeholders belongs to msgctxt text")

