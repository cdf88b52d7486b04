"""A progress round in a real browser (Debian chromium, Playwright), the office and a department side by side:
the office opens a quarterly round; the department (bound to 工业和信息化局, ``miit``) logs in with its TOTP,
sees only its own measures on "my measures", files one with an indicator value and an evidence PDF, and
submits; the office returns it with a comment; the department revises and resubmits; the office accepts. The
department cannot open another unit's filing (404). Requests leaving the loopback interface and console errors
fail the test; screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pyotp
import pytest

from tests.governance.rounds_support import PDF
from tests.web.browser_support import ARTIFACTS, CHROMIUM, guarded_page, login_with_totp, platform_server
from tests.web.conftest import HAS_API, seeded_database

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
]
PASSWORD = "Dalian-rounds-2026!"


def _prepare_home(home: Path, factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    """Seed the store, give a measure of task 4 indicators, create the office and a miit department user (known
    passwords, TOTP enrolled a while ago); the TOTP secrets and the measure's code."""
    from citycarbon.store import users
    from tests.governance.rounds_support import measure_with_indicators

    _, db = seeded_database(home, factory)
    secrets = {}
    try:
        measure = measure_with_indicators(db)
        with db.session() as session:
            office, _ = users.create_admin(session, username="office", actor="test")
            dept, _ = users.create_user(session, username="dept-miit", role="department", org_code="miit",
                                        actor="test")
            for name, user in (("office", office), ("dept-miit", dept)):
                users.set_password(session, user, PASSWORD, actor="test")
                secret = users.enroll_totp(session, user).secret
                earlier = datetime.now(UTC) - timedelta(seconds=90)
                users.confirm_totp(session, user, pyotp.TOTP(secret).at(earlier), now=earlier)
                secrets[name] = secret
    finally:
        db.dispose()
    return secrets, measure


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("rounds-browser-home")
    secrets, measure = _prepare_home(home, tmp_path_factory)
    with platform_server(home, warm=False) as base:
        yield base, secrets, measure, home


def _expected(message) -> bool:
    """The refused URL (another unit's filing) answers 404 on purpose, the login's password step 401 (the TOTP
    step follows); chromium logs every non-2xx document as a console error."""
    url = urlparse(message.location.get("url") or "")
    return ((url.path.startswith("/governance/filings/") and "status of 404" in message.text)
            or (url.path == "/login" and "status of 401" in message.text))


def test_office_and_department_run_a_round_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, secrets, measure, home = server
    ARTIFACTS.mkdir(exist_ok=True)
    evidence = home / "验收报告.pdf"
    evidence.write_bytes(PDF)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, _, office = guarded_page(playwright, blocked, problems, expected_console=_expected)
        dept_context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        dept = dept_context.new_page()
        dept.on("console", lambda m: problems.append(f"{m.location.get('url')}: {m.text}")
                if m.type == "error" and not _expected(m) else None)
        dept.on("pageerror", lambda e: problems.append(str(e)))
        dept.set_default_timeout(30_000)
        dept_context.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).hostname in (
            "127.0.0.1", "localhost") else (blocked.append(route.request.url), route.abort()))

        # the office opens a quarterly round over task 4
        login_with_totp(office, base + "/governance/rounds", PASSWORD, secrets["office"], username="office")
        office.wait_for_selector("h1:has-text('调度')")
        office.fill("#r-code", "2026Q4")
        office.select_option("#r-period", label="季度")
        office.fill("#r-deadline", "2027-01-10")
        office.check("input[name=scope][value=tasks]")
        office.fill("#r-tasks", "4")
        office.click("#open-round button[type=submit]")
        office.wait_for_selector("h1:has-text('2026Q4 季度调度')")
        office.wait_for_selector("text=本轮调度已开启，已通知各责任单位。")
        office.screenshot(path=str(ARTIFACTS / "rounds-office-opened.png"), full_page=True)

        # the department sees only its own measures
        login_with_totp(dept, base + "/governance/my", PASSWORD, secrets["dept-miit"], username="dept-miit")
        dept.wait_for_selector("h1:has-text('我的任务')")
        rows = dept.locator("table.gov-my tbody tr")
        assert rows.count() >= 1
        units = {rows.nth(i).locator("td").nth(3).inner_text() for i in range(rows.count())}
        assert units == {"市工业和信息化局"}, units
        row = dept.locator(f"table.gov-my tr:has(code:text-is('{measure}'))")
        href = row.locator("a").get_attribute("href")
        dept.screenshot(path=str(ARTIFACTS / "rounds-my-measures.png"), full_page=True)

        # files one: status, narrative, indicator value; saves; attaches a PDF; submits
        dept.goto(base + href)
        dept.wait_for_selector("label:has-text('渔光互补光伏装机')")
        dept.select_option("#f-status", label="推进中")
        dept.fill("#f-narrative", "渔光互补项目一期已开工")
        dept.fill("#ind-pv_mw", "120.5")
        dept.click("button[value=save]")
        dept.wait_for_selector("text=草稿已保存。")
        dept.set_input_files("#f-file", str(evidence))
        dept.click("#attach-form button[type=submit]")
        dept.wait_for_selector("text=附件已上传。")
        link = dept.locator("ul.attachments a").first
        assert link.inner_text() == "验收报告.pdf"
        download = dept.request.get(base + (link.get_attribute("href") or ""))
        assert download.status == 200 and download.body() == PDF
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-security-policy"].startswith("sandbox")
        dept.click("#submit-filing")
        dept.wait_for_selector("text=已提交领导小组办公室。")

        # the office returns it with a comment
        office.goto(base + href)
        office.wait_for_selector("#review-form")
        assert "渔光互补项目一期已开工" in office.inner_text("section.panel >> nth=0")
        office.fill("#r-comment", "请补充一期项目的并网时间")
        office.click("#return-filing")
        office.wait_for_selector("text=填报已连同审核意见退回填报单位。")

        # the department revises and resubmits
        dept.goto(base + "/governance/my")
        dept.wait_for_selector("text=已退回，请修改")
        dept.goto(base + href)
        dept.wait_for_selector("text=请补充一期项目的并网时间")
        dept.fill("#f-narrative", "一期已于 12 月并网")
        dept.select_option("#f-status", label="已完成")
        dept.click("#submit-filing")
        dept.wait_for_selector("text=已提交领导小组办公室。")

        # the office accepts
        office.goto(base + href)
        office.click("#accept-filing")
        office.wait_for_selector("text=填报已审核通过。")
        history = office.locator("table.gov-history tbody tr")
        assert history.count() == 5
        assert "退回修改" in history.nth(2).inner_text() and "审核通过" in history.nth(4).inner_text()
        office.screenshot(path=str(ARTIFACTS / "rounds-filing-accepted.png"), full_page=True)

        # another unit's filing of the same measure: 404 for the department
        office.goto(base + "/governance/rounds/2026Q4")
        others = [a.get_attribute("href") for a in office.locator(
            f"table.gov-filings tr:has(code:text-is('{measure}')) a").all()]
        foreign = next(h for h in others if h != href)
        answer = dept.goto(base + foreign)
        assert answer is not None and answer.status == 404
        dept.wait_for_selector("h1:has-text('未找到')")
        browser.close()
    assert not blocked, blocked
    assert not problems, problems
