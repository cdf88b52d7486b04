"""The nav's inbox entry and its unread badge (issue 14 item 8): a unit's user sees how many messages wait for it,
the badge goes once they are read, an enterprise user has no inbox entry, and the badge never breaks a page."""

from __future__ import annotations

import re

from citycarbon.services.governance import notify

BADGE = re.compile(r'<a href="/governance/inbox"[^>]*>[^<]*<span class="badge"[^>]*>(\d+)</span>')


def _post(env, org: str, n: int) -> None:
    with env.db.session(write=True) as session:
        for _ in range(n):
            notify.post(session, "dalian", kind="round", message="gov_rounds.round_opened",
                        params={"round": "2026Q4", "deadline": "2027-01-10"}, org_code=org)


def test_unread_badge_counts_and_clears(fresh_web_env):
    env = fresh_web_env
    _post(env, "miit", 2)
    _post(env, "eco", 1)  # another unit's: not counted for dept-miit
    page = env.get("/?lang=zh_CN", user="dept-miit").text
    found = BADGE.search(page)
    assert found and found.group(1) == "2"
    assert 'aria-label="未读消息"' in page
    assert env.post("/governance/inbox/read", user="dept-miit").status_code == 303
    after = env.get("/?lang=zh_CN", user="dept-miit").text
    assert 'href="/governance/inbox"' in after and not BADGE.search(after)


def test_no_inbox_entry_for_enterprise_users(fresh_web_env):
    page = fresh_web_env.get("/?lang=zh_CN", user="enterprise-x").text
    assert 'href="/governance/inbox"' not in page
