"""docs/security.md's permission matrix is the one ``Principal`` computes (the page cannot drift from the code)."""

from __future__ import annotations

from pathlib import Path

from citycarbon.auth.principal import Principal, Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"

PRINCIPALS = {
    "admin": Principal(1, "a", Role.admin),
    "analyst": Principal(2, "b", Role.analyst),
    "district": Principal(3, "c", Role.district, regions=frozenset({"210202"})),
    "enterprise": Principal(4, "d", Role.enterprise, enterprise_id="E1"),
    "viewer": Principal(5, "e", Role.viewer),
}

RULES = {
    "read any region's detailed data": lambda p: p.can_read_region("210211"),
    "read region 210202's detailed data": lambda p: p.can_read_region("210202"),
    "write any region's data": lambda p: p.can_write_region("210211"),
    "write region 210202's data": lambda p: p.can_write_region("210202"),
    "read any enterprise's data": lambda p: p.can_read_enterprise("E2"),
    "read an enterprise located in region 210202": lambda p: p.can_read_enterprise("E2", region="210202"),
    "read enterprise E1's data": lambda p: p.can_read_enterprise("E1"),
    "write enterprise E1's readings and registry": lambda p: p.can_write_enterprise("E1"),
    "write another enterprise's data": lambda p: p.can_write_enterprise("E2"),
    "upload statistics for approval": lambda p: p.can_import_statistics(),
    "approve an import": lambda p: p.can_approve_import(),
    "manage users and tokens": lambda p: p.can_manage_users(),
    "read the audit log": lambda p: p.can_read_audit(),
    "queue city-wide jobs (recompute)": lambda p: p.can_start_city_jobs(),
}


def _doc_matrix() -> tuple[list[str], dict[str, list[bool]]]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- permission-matrix:start -->")[1].split("<!-- permission-matrix:end -->")[0]
    lines = [line.strip() for line in block.strip().splitlines()]
    header = [c.strip() for c in lines[0].strip("|").split("|")][1:]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = [c == "✓" for c in cells[1:]]
    return header, rows


def test_security_doc_matrix_matches_principal():
    header, rows = _doc_matrix()
    assert header == list(PRINCIPALS)
    assert list(rows) == list(RULES)
    for label, rule in RULES.items():
        assert rows[label] == [rule(p) for p in PRINCIPALS.values()], label


def test_read_tokens_remove_every_write():
    for principal in PRINCIPALS.values():
        reader = principal.narrowed({"read"})
        assert not any(RULES[label](reader) for label in RULES if label.startswith(("write", "upload", "approve",
                                                                                      "manage")))
