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


#: what even an administrator may not do: (call, the field the refusal names)
ADMIN_MAY_NOT = {
    "bind a user to an enterprise that does not exist": (
        lambda users, db, admin: users.update_user(db, admin, "district-a", {"role": "enterprise",
                                                                           "enterprise_id": "91210200MA0NOTHERE"}),
        "enterprise_id"),
    "create a user of an enterprise that does not exist": (
        lambda users, db, admin: users.create_user(db, admin, username="ghost", role="enterprise",
                                                   enterprise_id="91210200MA0NOTHERE"), "enterprise_id"),
    "bind a user to a region that does not exist": (
        lambda users, db, admin: users.update_user(db, admin, "district-a", {"regions": ["999999"]}), "regions"),
    "bind a district user to the city's own code": (
        lambda users, db, admin: users.update_user(db, admin, "district-a", {"regions": ["210200"]}), "regions"),
    "bind a viewer to a region": (
        lambda users, db, admin: users.create_user(db, admin, username="ghost", role="viewer", regions=["210202"]),
        "regions"),
    "give a viewer a write token": (
        lambda users, db, admin: users.issue_token(db, admin, username="viewer", scope="write"), "scope"),
}


@pytest.mark.parametrize("refusal", sorted(ADMIN_MAY_NOT))
def test_what_an_administrator_may_not_do(world, refusal):
    from citycarbon.errors import InputError
    from citycarbon.services import users
    from tests.permissions.cases import _user_state

    call, field = ADMIN_MAY_NOT[refusal]
    before = (audit_rows(world.db), _user_state(world.db, "district-a"), _user_state(world.db, "ghost"),
              _user_state(world.db, "admin"), _user_state(world.db, "viewer"))
    with pytest.raises(InputError) as caught:
        call(users, world.db, world.principal("admin"))
    assert caught.value.first.field == field
    assert (audit_rows(world.db), _user_state(world.db, "district-a"), _user_state(world.db, "ghost"),
            _user_state(world.db, "admin"), _user_state(world.db, "viewer")) == before
