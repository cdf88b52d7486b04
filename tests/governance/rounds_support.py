"""What the rounds tests share: the callers (principals of every role, without accounts), a measure of task 4
(led by 工业和信息化局 ``miit``) given two quantitative indicators, and a quarterly round over task 4."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from citycarbon.auth.principal import Principal, Role

CITY = "dalian"
OFFICE = Principal(1, "office", Role.admin)
OFFICE_READ = OFFICE.narrowed({"read"})
ANALYST = Principal(2, "analyst", Role.analyst)
VIEWER = Principal(3, "viewer", Role.viewer, scopes=frozenset({"read"}))
MIIT = Principal(4, "dept-miit", Role.department, org="miit")
MIIT_READ = MIIT.narrowed({"read"})
ECO = Principal(5, "dept-eco", Role.department, org="eco")
ZHONGSHAN = Principal(6, "district-zs", Role.district, regions=frozenset({"210202"}))
ENTERPRISE = Principal(7, "ent", Role.enterprise, enterprise_id="91210200MA0XXXXXXU")
INDICATORS = ({"code": "pv_mw", "name_zh": "渔光互补光伏装机", "name_en": "Fishery-PV capacity", "unit": "MW"},
              {"code": "charging_points", "name_zh": "充电桩", "name_en": "Charging points", "unit": "1"})


def measure_with_indicators(db) -> str:
    """Give the first measure of task 4 two indicators and the district 中山区 (``d210202``) besides its lead
    ``miit`` and co-units (a new version of it); its code."""
    from citycarbon.governance.model import Indicator
    from citycarbon.store import governance

    with db.session(write=True) as session:
        measure = next(m for m in governance.current_measures(session, CITY) if m.task == 4)
        indicators = tuple(Indicator(**i, target=100.0, year=2025) for i in INDICATORS)
        governance.put_measure(session, CITY, replace(measure, indicators=indicators, districts=("d210202",)),
                               actor="test")
    return measure.code


def open_q4(db, *, code: str = "2026Q4", tasks: list[int] | None = None, by=OFFICE, **options):
    from citycarbon.services.governance import rounds

    return rounds.open_round(db, by, CITY, code=code, period="quarterly", deadline=date(2027, 1, 10),
                             tasks=tasks if tasks is not None else [4], **options)


def filing_of(db, round_code: str, measure: str, org: str):
    from citycarbon.services.governance import rounds

    return next(f for f in rounds.list_filings(db, OFFICE, CITY, round_code, org=org) if f.measure == measure)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
