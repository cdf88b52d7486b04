"""The ledger's dataset specs are built from the table registry (data/tables.yaml) and agree with it: frames
drawn from the registry go in and come back unchanged; a frame lacking a key column or with an over-long code
is refused naming the column."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon import datasets
from citycarbon.errors import InputError
from citycarbon.store import ledger
from citycarbon.store.models import Observation
from citycarbon.tables import Table, load_tables, table
from tests.table_strategies import as_text, fixed_rows, rows

REGISTRY = load_tables()


def test_ledger_datasets_are_the_registry_tables():
    assert list(ledger.DATASETS) == list(REGISTRY)
    for name, spec in ledger.DATASETS.items():
        registered = REGISTRY[name]
        assert spec.columns == registered.column_names and spec.key_columns == registered.key, name
        assert (spec.value, spec.file, spec.monthly) == (registered.value, registered.file, registered.monthly)
    assert tuple(n for n, t in REGISTRY.items() if t.reference) == ledger.REFERENCE_TABLES
    assert all(table(alias).name == name for alias, name in ledger.ALIASES.items())


def test_observation_column_sizes_are_the_registry_lengths():
    """The registry's max_length is what ``observations`` can hold (PostgreSQL refuses longer text)."""
    size = {"region": Observation.region.type.length, "unit": Observation.unit.type.length,
            "status": Observation.status.type.length}
    for spec in REGISTRY.values():
        for column in spec.columns:
            if column.name in size:
                assert column.max_length == size[column.name], (spec.name, column.name)
            elif column.name in spec.dims:
                assert column.max_length == Observation.dim1.type.length, (spec.name, column.name)


def _typed(spec: Table, records: list[dict]) -> pd.DataFrame:
    """The canonical frame of drawn rows: the reference tables as read_reference makes them, the others in
    the registry's dtypes (monthly.csv's integer region codes included)."""
    if spec.reference:
        return datasets.validate_table(spec.name, as_text(spec, records), spec.file)
    frame = pd.DataFrame.from_records(records, columns=list(spec.column_names))
    for column in spec.columns:
        if column.dtype == "int":
            frame[column.name] = frame[column.name].astype("Int64" if column.nullable else "int64")
        elif column.dtype == "float":
            frame[column.name] = frame[column.name].astype(float)
        else:
            frame[column.name] = frame[column.name].astype("str")
    return frame


def _sorted(frame: pd.DataFrame, spec: Table) -> pd.DataFrame:
    return frame.sort_values(list(spec.key), na_position="first").reset_index(drop=True)


_drawn = st.sampled_from(list(REGISTRY)).flatmap(lambda name: st.tuples(st.just(name), rows(REGISTRY[name])))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(drawn=_drawn)
def test_frames_drawn_from_the_registry_come_back_from_the_ledger(sqlite_db, drawn):
    name, records = drawn
    spec = REGISTRY[name]
    frame = _typed(spec, records)
    with sqlite_db.session(write=True) as session:
        ledger.write_frame(session, name, frame, actor="test", scope="all")
    with sqlite_db.session() as session:
        stored = ledger.current_frame(session, name)
    assert tuple(stored.columns) == spec.column_names
    pd.testing.assert_frame_equal(_sorted(stored, spec), _sorted(frame, spec), check_dtype=False, obj=name)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_a_frame_without_a_key_column_is_refused_naming_it(sqlite_db, name):
    spec = REGISTRY[name]
    frame = _typed(spec, fixed_rows(spec, 2))
    for column in spec.key:
        with sqlite_db.session(write=True) as session, pytest.raises(InputError) as info:
            ledger.write_frame(session, name, frame.drop(columns=[column]), actor="test")
        assert [p.field for p in info.value.problems] == [column]


@pytest.mark.parametrize("name", [n for n, t in REGISTRY.items() if any(t.column(d).dtype == "str" for d in t.dims)])
def test_a_code_longer_than_the_registry_allows_is_refused_naming_it(sqlite_db, name):
    spec = REGISTRY[name]
    column = next(spec.column(d) for d in spec.dims if spec.column(d).dtype == "str")
    frame = _typed(spec, fixed_rows(spec, 1)).astype({column.name: object})
    frame.loc[0, column.name] = "x" * column.max_length
    with sqlite_db.session(write=True) as session:
        ledger.write_frame(session, name, frame, actor="test", scope="none")  # the longest allowed is stored
    frame.loc[0, column.name] = "y" * (column.max_length + 1)
    with sqlite_db.session(write=True) as session, pytest.raises(InputError) as info:
        ledger.write_frame(session, name, frame, actor="test", scope="none")
    assert (info.value.first.field, info.value.first.row) == (column.name, 1)
    assert f"longer than {column.max_length}" in info.value.first.message
