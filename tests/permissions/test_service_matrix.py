"""The declared permission matrix (:mod:`tests.permissions.matrix`) walked at the service level, on SQLite and
PostgreSQL: for every write and every caller, the service function called with the caller's Principal answers
as declared; a refusal writes nothing (the audit log's row count and the object are unchanged); a permitted
write is done and audited."""

from __future__ import annotations

import pytest

from tests.permissions.cases import CASES, World, audit_rows, outcome_of
from tests.permissions.matrix import ACTORS, MATRIX


def walk(world: World, write: str) -> list[str]:
    """Every caller's try of ``write``; the list of cells that did not answer as declared."""
    case, failures = CASES[write], []
    for index, actor in enumerate(ACTORS):
        expected = MATRIX[write][actor]
        obj = case.setup(world, f"{write.replace('.', '-')}-{index}")
        before, rows = case.state(world, obj), audit_rows(world.db)
        try:
            result = case.call(world, world.principal(actor), obj)
        except Exception as error:  # every refusal family is mapped; anything else is re-raised
            got = outcome_of(error)
            if got != expected:
                failures.append(f"{write} as {actor}: {got} ({error}), declared {expected}")
            if (case.state(world, obj), audit_rows(world.db)) != (before, rows):
                failures.append(f"{write} as {actor}: refused ({got}) but something was written")
            continue
        if expected == "rej" and case.rejected is not None and case.rejected(result):
            if case.state(world, obj) != before:
                failures.append(f"{write} as {actor}: rows rejected but the data changed")
            continue
        if expected != "ok":
            failures.append(f"{write} as {actor}: done, declared {expected}")
        elif not case.done(world, obj, result, before):
            failures.append(f"{write} as {actor}: no error but the write is not visible")
        elif audit_rows(world.db) <= rows:
            failures.append(f"{write} as {actor}: done but not audited")
    return failures


@pytest.mark.parametrize("write", sorted(MATRIX))
def test_service_answers_as_the_matrix_declares(world, write):
    failures = walk(world, write)
    assert not failures, "\n".join(failures)


def test_every_declared_write_has_a_case():
    assert set(CASES) == set(MATRIX)
