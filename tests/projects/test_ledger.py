"""Replacement ledgers: no double spending, exact balances, refusals change nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.errors import Conflict, InputError
from citycarbon.projects.ledger import Allocation, Refused, Request, Source, allocate, balance

STEEL = Source.from_mapping({"id": "S1", "kind": "capacity", "product": "crude_steel", "amount": "120",
                             "unit": "10^4 t", "plant": "某钢厂", "unit_name": "3号高炉",
                             "retired_on": "2023-06-30", "document": "辽工信〔2023〕1号"})
ROOM = Source.from_mapping({"id": "E1", "kind": "energy", "amount": "8000", "unit": "tce"})


def _req(source: str, amount: str, unit: str = "tce", kind: str = "energy", product: str | None = None,
         project: str = "P1") -> Request:
    return Request.from_mapping({"source_id": source, "project_id": project, "kind": kind, "amount": amount,
                                 "unit": unit, "product": product})


def test_allocate_then_refuse_the_second_over_spend() -> None:
    first = allocate([ROOM], [], _req("E1", "8000"))
    assert first.amount == Decimal("8000") and first.unit == "tce"
    assert balance([ROOM], [first]) == {"E1": Decimal(0)}
    with pytest.raises(Refused) as info:
        allocate([ROOM], [first], _req("E1", "1", project="P2"))
    assert info.value.code == "ledger_overspend" and isinstance(info.value, Conflict)
    assert "余额" in info.value.zh


def test_units_convert_to_the_source_unit() -> None:
    alloc = allocate([STEEL], [], _req("S1", "300000", unit="t", kind="capacity", product="crude_steel"))
    assert alloc.amount == Decimal("30") and alloc.unit == "10^4 t"
    assert balance([STEEL], [alloc])["S1"] == Decimal("90")
    assert STEEL.retired_on == date(2023, 6, 30)


@pytest.mark.parametrize(("request_", "code"), [
    (_req("S1", "1", unit="10^4 t", kind="capacity", product="cement_clinker"), "ledger_wrong_product"),
    (_req("S1", "1"), "ledger_wrong_kind"),
    (_req("E1", "1", unit="10^4 t", kind="capacity", product="crude_steel"), "ledger_wrong_kind"),
    (_req("NOPE", "1"), "ledger_unknown_source"),
])
def test_another_kind_or_product_cannot_serve(request_: Request, code: str) -> None:
    with pytest.raises(Refused) as info:
        allocate([STEEL, ROOM], [], request_)
    assert info.value.code == code


@pytest.mark.parametrize(("data", "field"), [
    ({"id": "X", "kind": "energy", "amount": "-1", "unit": "tce"}, "amount"),
    ({"id": "X", "kind": "energy", "amount": "abc", "unit": "tce"}, "amount"),
    ({"id": "X", "kind": "energy", "amount": "5", "unit": "t"}, "unit"),
    ({"id": "X", "kind": "capacity", "amount": "5", "unit": "t"}, "product"),
    ({"id": "X", "kind": "quota", "amount": "5", "unit": "t"}, "kind"),
    ({"kind": "energy", "amount": "5", "unit": "tce"}, "id"),
    ({"id": "X", "kind": "energy", "amount": "5", "unit": "tce", "retired_on": "yesterday"}, "retired_on"),
])
def test_bad_sources_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        Source.from_mapping(data)
    assert info.value.first.field == field


def test_request_in_a_unit_of_another_dimension() -> None:
    bad = Request("S1", "P1", "capacity", Decimal(1), "kWh", "crude_steel")
    with pytest.raises(InputError) as info:
        allocate([STEEL], [], bad)
    assert info.value.first.field == "unit"


AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000"), places=2)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["E1", "E2"]), AMOUNTS), max_size=30), AMOUNTS, AMOUNTS)
def test_ledger_never_over_spends(requests: list, room1: Decimal, room2: Decimal) -> None:
    sources = [Source("E1", "energy", room1, "tce"), Source("E2", "energy", room2, "tce")]
    allocations: list[Allocation] = []
    for i, (source_id, amount) in enumerate(requests):
        before_balance = balance(sources, allocations)
        before = list(allocations)
        try:
            allocations.append(allocate(sources, allocations, _req(source_id, str(amount), project=f"P{i}")))
        except Refused:
            assert allocations == before and balance(sources, allocations) == before_balance
            assert before_balance[source_id] < amount
    remaining = balance(sources, allocations)
    for source in sources:
        spent = sum((a.amount for a in allocations if a.source_id == source.id), Decimal(0))
        assert spent <= source.amount
        assert remaining[source.id] + spent == source.amount  # exactly (Decimal)
        assert remaining[source.id] >= 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["t", "10^4 t"]), AMOUNTS), max_size=20), AMOUNTS)
def test_capacity_in_mixed_units_balances_exactly(requests: list, capacity: Decimal) -> None:
    source = Source("C1", "capacity", capacity, "10^4 t", product="cement_clinker")
    allocations: list[Allocation] = []
    for unit, amount in requests:
        try:
            allocations.append(allocate([source], allocations, _req("C1", str(amount), unit=unit, kind="capacity",
                                                                    product="cement_clinker")))
        except Refused as exc:
            assert exc.code == "ledger_overspend"
    spent = sum((a.amount for a in allocations), Decimal(0))
    assert spent <= capacity and balance([source], allocations)["C1"] + spent == capacity
    for alloc in allocations:
        factor = Decimal("0.0001") if alloc.requested_unit == "t" else Decimal(1)
        assert alloc.amount == alloc.requested_amount * factor
