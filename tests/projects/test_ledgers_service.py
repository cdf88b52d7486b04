"""The replacement ledgers' use cases (services.projects.ledgers): sources, allocation, over-spend, wrong
product, release, coverage of the issue's example project against evaluate(), the import (good and bad), and
the scope of district users."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from citycarbon.errors import Conflict, Forbidden, InputError, NotFound
from citycarbon.projects.ledger import Refused
from citycarbon.projects.model import ProductLine
from citycarbon.services.projects import ledgers
from citycarbon.services.projects.evaluate import evaluate
from citycarbon.store import audit
from citycarbon.store.project_models import ProjProject
from tests.projects.support import (
    ANALYST,
    CHANGXING,
    CITY,
    DISTRICT,
    MIIT,
    OFFICE,
    OTHER_DISTRICT,
    VIEWER,
    ZHUANGHE,
    chemical_project,
    insert_project,
)


def energy(code: str = "E-1", amount: str = "5000", unit: str = "tce", region: str = CHANGXING) -> dict:
    return {"code": code, "kind": "energy", "amount": amount, "unit": unit, "origin": "closure",
            "document": "大工信发〔2025〕12号", "plant": "某焦化厂", "region_code": region,
            "retired_on": "2025-06-30"}


def capacity(code: str = "C-1", product: str = "cement_clinker", amount: str = "150", unit: str = "10^4 t/a",
             region: str = CHANGXING) -> dict:
    return {"code": code, "kind": "capacity", "amount": amount, "unit": unit, "product": product,
            "plant": "某水泥厂", "unit_name": "2# 熟料线", "region_code": region, "retired_on": "2024-12-31",
            "document": "辽工信原材料〔2024〕8号"}


def required_energy() -> float:
    found = [f for f in evaluate(CITY, chemical_project()).findings if f.code == "replacement.energy"]
    assert len(found) == 1
    return float(found[0].numbers["required"])


def audit_count(db) -> int:
    with db.session() as session:
        return audit.count(session)


def test_the_example_needs_energy_replacement_and_is_covered_only_by_enough(seeded_db):
    code = insert_project(seeded_db, chemical_project())
    ledgers.add_source(seeded_db, OFFICE, CITY, energy(amount="5000"))
    need = required_energy()
    assert need == pytest.approx(8006 - 4500, rel=0.01)  # the example: ~3 506 tce
    before = ledgers.project_allocations(seeded_db, OFFICE, CITY, code)
    assert not before.coverage.covered and before.coverage.needs[0].required == need
    part = Decimal(repr(need)) / 2
    ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", str(part), "tce", "首批")
    half = ledgers.project_allocations(seeded_db, OFFICE, CITY, code)
    assert not half.coverage.covered and half.coverage.needs[0].shortfall == Decimal(repr(need)) - part
    assert "尚缺" in half.coverage.message_zh()
    done = ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", str(Decimal(repr(need)) - part), "tce")
    assert done.source.remaining_decimal == Decimal(5000) - Decimal(repr(need))
    after = ledgers.project_allocations(seeded_db, OFFICE, CITY, code)
    assert after.coverage.covered and after.coverage.needs[0].allocated == Decimal(repr(need))
    with seeded_db.session() as session:
        row = session.query(ProjProject).filter_by(code=code).one()
        assert ledgers.require_covered(session, CITY, row).covered


def test_coverage_converts_energy_units_to_tce(seeded_db):
    code = insert_project(seeded_db, chemical_project())
    ledgers.add_source(seeded_db, OFFICE, CITY, energy(amount="1", unit="10^4 tce"))
    ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", "3600", "tce")  # asked in tce, held in 10^4 tce
    view = ledgers.get_source(seeded_db, OFFICE, CITY, "E-1")
    assert Decimal(view.allocated) == Decimal("0.36") and Decimal(view.remaining) == Decimal("0.64")
    need = ledgers.project_allocations(seeded_db, OFFICE, CITY, code).coverage.needs[0]
    assert need.allocated == Decimal("3600") and need.covered == (required_energy() <= 3600)


def test_overspend_is_refused_and_nothing_written(seeded_db):
    code = insert_project(seeded_db, chemical_project())
    ledgers.add_source(seeded_db, OFFICE, CITY, energy(amount="1000"))
    ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", "600", "tce")
    rows = audit_count(seeded_db)
    with pytest.raises(Refused) as caught:
        ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", "400.01", "tce")
    assert caught.value.code == "ledger_overspend" and "400" in caught.value.zh
    assert audit_count(seeded_db) == rows
    assert ledgers.get_source(seeded_db, OFFICE, CITY, "E-1").remaining == "400"


@pytest.mark.parametrize("amount", ["0", "-5", "NaN", "abc"])
def test_a_zero_or_negative_request_never_grows_the_balance(seeded_db, amount):
    code = insert_project(seeded_db, chemical_project())
    ledgers.add_source(seeded_db, OFFICE, CITY, energy(amount="1000"))
    with pytest.raises(InputError) as caught:
        ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", amount, "tce")
    assert caught.value.first.field == "amount"
    assert ledgers.get_source(seeded_db, OFFICE, CITY, "E-1").remaining == "1000"


def test_wrong_product_and_wrong_unit_are_refused(seeded_db):
    code = insert_project(seeded_db, chemical_project())
    ledgers.add_source(seeded_db, OFFICE, CITY, capacity())
    with pytest.raises(Refused) as caught:
        ledgers.allocate(seeded_db, OFFICE, CITY, code, "C-1", "1", "10^4 t/a")
    assert caught.value.code == "ledger_wrong_product" and "ethylene" in caught.value.zh
    ledgers.add_source(seeded_db, OFFICE, CITY, energy())
    with pytest.raises(InputError) as bad:
        ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", "1", "t/a")
    assert bad.value.first.field == "unit"
    with pytest.raises(Refused) as unknown:
        ledgers.allocate(seeded_db, OFFICE, CITY, code, "NOPE", "1", "tce")
    assert unknown.value.code == "ledger_unknown_source"


def test_capacity_coverage_of_a_cement_line(seeded_db):
    cement = chemical_project(name="水泥熟料项目", industry_code="C3011", national_plan=None,
                              products=(ProductLine("cement_clinker", 100, "10^4 t/a", 95, "kgce/t"),))
    code = insert_project(seeded_db, cement)
    findings = [f for f in evaluate(CITY, cement).findings if f.code == "replacement.capacity"]
    assert findings, "a cement clinker line needs capacity replacement"
    required = float(findings[0].numbers["required"])
    ledgers.add_source(seeded_db, OFFICE, CITY, capacity(amount="500", unit="10^4 t/a"))
    ledgers.allocate(seeded_db, OFFICE, CITY, code, "C-1", str(Decimal(repr(required)) * 10_000), "t/a")
    needs = [n for n in ledgers.project_allocations(seeded_db, OFFICE, CITY, code).coverage.needs
             if n.kind == "capacity"]
    assert needs[0].product == "cement_clinker" and needs[0].unit == "10^4 t/a"
    assert needs[0].allocated == Decimal(repr(required)) and needs[0].covered


def test_release_gives_the_balance_back_once(seeded_db):
    code = insert_project(seeded_db, chemical_project())
    ledgers.add_source(seeded_db, OFFICE, CITY, energy(amount="1000"))
    made = ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", "1000", "tce")
    assert made.source.remaining == "0"
    with pytest.raises(InputError):
        ledgers.release(seeded_db, OFFICE, CITY, made.allocation.id, "")
    back = ledgers.release(seeded_db, OFFICE, CITY, made.allocation.id, "项目撤回")
    assert back.source.remaining == "1000" and back.allocation.released_by == OFFICE.username
    with pytest.raises(Conflict) as again:
        ledgers.release(seeded_db, OFFICE, CITY, made.allocation.id, "再次")
    assert again.value.code == "ledger_released"
    with pytest.raises(NotFound):
        ledgers.release(seeded_db, OFFICE, CITY, 2**40, "none")


def test_a_rejected_project_gets_nothing(seeded_db):
    code = insert_project(seeded_db, chemical_project(), state="rejected")
    ledgers.add_source(seeded_db, OFFICE, CITY, energy())
    with pytest.raises(Conflict) as caught:
        ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", "1", "tce")
    assert caught.value.code == "ledger_project_state"


def test_editing_a_source_only_while_nothing_was_allocated(seeded_db):
    code = insert_project(seeded_db, chemical_project())
    ledgers.add_source(seeded_db, OFFICE, CITY, energy(amount="1000"))
    edited = ledgers.edit_source(seeded_db, OFFICE, CITY, "E-1", {"amount": "1200"}, reason="核减后更正")
    assert edited.amount == "1200" and edited.version == 2
    with pytest.raises(InputError) as bad:
        ledgers.edit_source(seeded_db, OFFICE, CITY, "E-1", {"code": "X"}, reason="r")
    assert bad.value.first.field == "code"
    ledgers.allocate(seeded_db, OFFICE, CITY, code, "E-1", "1", "tce")
    with pytest.raises(Conflict) as used:
        ledgers.edit_source(seeded_db, OFFICE, CITY, "E-1", {"amount": "1"}, reason="r")
    assert used.value.code == "ledger_source_used"
    with pytest.raises(Conflict):
        ledgers.add_source(seeded_db, OFFICE, CITY, energy(amount="1"))


@pytest.mark.parametrize("changes, field", [
    ({"kind": "capacity", "product": ""}, "product"),
    ({"product": "widgets"}, "product"),
    ({"unit": "t/a"}, "unit"),
    ({"amount": "0"}, "amount"),
    ({"region_code": "999999"}, "region_code"),
    ({"retired_on": "2025-13-01"}, "retired_on"),
    ({"document": ""}, "document"),
])
def test_bad_sources_name_the_field(seeded_db, changes, field):
    base = capacity() if changes.get("kind") == "capacity" or "product" in changes else energy()
    with pytest.raises(InputError) as caught:
        ledgers.add_source(seeded_db, OFFICE, CITY, {**base, **changes})
    assert field in {p.field for p in caught.value.problems}
    assert ledgers.list_sources(seeded_db, OFFICE, CITY) == []


def test_who_may_read_and_write(seeded_db):
    ledgers.add_source(seeded_db, OFFICE, CITY, energy("E-A", region=CHANGXING))
    ledgers.add_source(seeded_db, OFFICE, CITY, energy("E-B", region=ZHUANGHE))
    assert [s.code for s in ledgers.list_sources(seeded_db, ANALYST, CITY)] == ["E-A", "E-B"]
    assert [s.code for s in ledgers.list_sources(seeded_db, MIIT, CITY)] == ["E-A", "E-B"]
    assert [s.code for s in ledgers.list_sources(seeded_db, DISTRICT, CITY)] == ["E-A"]
    assert ledgers.get_source(seeded_db, DISTRICT, CITY, "E-A").code == "E-A"
    with pytest.raises(NotFound):
        ledgers.get_source(seeded_db, OTHER_DISTRICT, CITY, "E-A")
    assert ledgers.list_sources(seeded_db, VIEWER, CITY) == []
    with pytest.raises(NotFound):
        ledgers.get_source(seeded_db, VIEWER, CITY, "E-A")
    for caller in (ANALYST, DISTRICT, MIIT, VIEWER):
        with pytest.raises(Forbidden):
            ledgers.add_source(seeded_db, caller, CITY, energy("E-X"))
    code = insert_project(seeded_db, chemical_project())
    with pytest.raises(NotFound):
        ledgers.project_allocations(seeded_db, OTHER_DISTRICT, CITY, code)
    assert ledgers.project_allocations(seeded_db, DISTRICT, CITY, code).project_code == code


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = ledgers.SHEET
    sheet.append(list(ledgers.SOURCE_COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _row(source: dict) -> list[object]:
    return [source.get(c, "") for c in ledgers.SOURCE_COLUMNS]


def test_import_good_file_then_the_template_round_trips(seeded_db):
    content = _xlsx([_row(energy("E-1")), _row(capacity("C-1"))])
    preview = ledgers.import_sources(seeded_db, OFFICE, CITY, content, "ledger.xlsx")
    assert preview.created == ["E-1", "C-1"] and not preview.applied
    assert ledgers.list_sources(seeded_db, OFFICE, CITY) == []
    rows = audit_count(seeded_db)
    done = ledgers.import_sources(seeded_db, OFFICE, CITY, content, "ledger.xlsx", apply=True)
    assert done.applied and audit_count(seeded_db) == rows + 2
    assert [s.code for s in ledgers.list_sources(seeded_db, OFFICE, CITY)] == ["C-1", "E-1"]
    book = load_workbook(io.BytesIO(ledgers.sources_workbook(seeded_db, OFFICE, CITY, filled=True).content))
    assert [c.value for c in book[ledgers.SHEET][1]] == list(ledgers.SOURCE_COLUMNS)
    assert {r[0].value for r in book[ledgers.SHEET].iter_rows(min_row=2)} == {"C-1", "E-1"}
    template = load_workbook(io.BytesIO(ledgers.sources_workbook(seeded_db, OFFICE, CITY).content))
    assert template[ledgers.SHEET].max_row == 1 and "说明" in template.sheetnames


def test_import_bad_file_names_file_sheet_row_column_and_stores_nothing(seeded_db):
    ledgers.add_source(seeded_db, OFFICE, CITY, energy("E-0"))
    content = _xlsx([_row(energy("E-1")), _row({**capacity("C-1"), "product": "widgets"}),
                     _row(energy("E-1")), _row(energy("E-0")), _row({**energy("E-2"), "unit": "t/a"})])
    rows = audit_count(seeded_db)
    with pytest.raises(InputError) as caught:
        ledgers.import_sources(seeded_db, OFFICE, CITY, content, "bad.xlsx", apply=True)
    where = {(p.file, p.row, p.field) for p in caught.value.problems}
    sheet = f"bad.xlsx [{ledgers.SHEET}]"
    assert {(sheet, 3, "product"), (sheet, 4, "code"), (sheet, 5, "code"), (sheet, 6, "unit")} <= where
    assert all(p.message_zh and p.message for p in caught.value.problems)
    assert audit_count(seeded_db) == rows
    assert [s.code for s in ledgers.list_sources(seeded_db, OFFICE, CITY)] == ["E-0"]


def test_import_csv_missing_column(seeded_db):
    with pytest.raises(InputError) as caught:
        ledgers.import_sources(seeded_db, OFFICE, CITY, b"code,kind,amount\nE-1,energy,5\n", "l.csv", apply=True)
    assert caught.value.first.field == "unit" and caught.value.first.row == 1
