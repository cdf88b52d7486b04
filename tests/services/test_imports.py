"""The import service's rules, for every role, on SQLite and PostgreSQL: who may upload which regions' rows,
who sees which batch, who approves and discards, and what a refusal leaves behind (nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from citycarbon.auth.principal import Principal
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound
from citycarbon.services import imports as service
from citycarbon.store import audit
from citycarbon.store.models import ImportBatch as BatchRow
from citycarbon.store.models import Observation

GANJINGZI, ZHONGSHAN = "210211", "210202"
HEADER = "year,region,variable,value,unit,price_base_year,status,source\n"


def _rows(*regions: str) -> bytes:
    return (HEADER + "".join(f'{2022 - i},{r},population,{60 + i},10^4 person,,official,"test"\n'
                             for i, r in enumerate(regions))).encode()


PEOPLE = {
    "admin": Principal(1, "admin", "admin"),
    "analyst": Principal(2, "analyst", "analyst"),
    "ganjingzi": Principal(3, "ganjingzi", "district", frozenset({GANJINGZI})),
    "zhongshan": Principal(4, "zhongshan", "district", frozenset({ZHONGSHAN})),
    "enterprise": Principal(5, "enterprise", "enterprise", enterprise_id="91210200MA0XXXXXXU"),
    "viewer": Principal(6, "viewer", "viewer"),
}
PEOPLE["admin-read"] = PEOPLE["admin"].narrowed({"read"})
PEOPLE["analyst-read"] = PEOPLE["analyst"].narrowed({"read"})
PEOPLE["ganjingzi-read"] = PEOPLE["ganjingzi"].narrowed({"read"})


def _footprint(db) -> tuple[int, int, int]:
    """(batches, audit rows, current observations): what a refused call must leave unchanged."""
    with db.session() as session:
        batches = session.execute(select(func.count()).select_from(BatchRow)).scalar_one()
        current = session.execute(select(func.count()).select_from(Observation)
                                  .where(Observation.superseded_at.is_(None))).scalar_one()
        return int(batches), audit.count(session), int(current)


def _upload(db, who: str, content: bytes | None = None, **options) -> service.ImportBatch:
    return service.upload_batch(db, PEOPLE[who], filename="population.csv",
                                content=content if content is not None else _rows(GANJINGZI), **options)


#: who may upload a row of Ganjingzi (210211)
UPLOADS = {"admin": True, "analyst": True, "ganjingzi": True, "zhongshan": False, "enterprise": False,
           "viewer": False, "admin-read": False, "analyst-read": False, "ganjingzi-read": False}


@pytest.mark.parametrize("who", sorted(UPLOADS))
def test_upload_of_a_ganjingzi_row_follows_the_callers_scope(db, who):
    before = _footprint(db)
    if UPLOADS[who]:
        batch = _upload(db, who)
        assert batch.status == "validated" and batch.uploaded_by == PEOPLE[who].username
        assert batch.preview.regions == (GANJINGZI,) and batch.preview.rows == 1
        assert _footprint(db) == (before[0] + 1, before[1] + 1, before[2])  # the batch and its audit row only
        return
    expected = InputError if who == "zhongshan" else Forbidden
    with pytest.raises(expected) as caught:
        _upload(db, who)
    if who == "zhongshan":  # the refusal names the row and the region
        problem = caught.value.first
        assert (problem.row, problem.field, problem.value) == (2, "region", GANJINGZI)  # the header is row 1
        assert GANJINGZI in problem.message and ZHONGSHAN in problem.message
    assert _footprint(db) == before  # nothing stored: no batch, no audit row, no value


def test_a_district_file_with_one_foreign_row_is_refused_whole(db):
    before = _footprint(db)
    with pytest.raises(InputError) as caught:
        _upload(db, "ganjingzi", _rows(GANJINGZI, ZHONGSHAN, GANJINGZI))
    assert [(p.row, p.value) for p in caught.value.problems] == [(3, ZHONGSHAN)]  # the file's row 3
    assert _footprint(db) == before


def test_a_district_may_not_replace_every_region_with_mode_all(db):
    with pytest.raises(InputError) as caught:
        _upload(db, "ganjingzi", mode="all")
    assert caught.value.first.field == "mode"
    assert _upload(db, "ganjingzi", mode="none").mode == "keys"  # "none" is the former name of "keys"
    assert _upload(db, "admin", mode="all").mode == "all"


def test_an_empty_file_and_a_rejected_file(db):
    with pytest.raises(InputError, match="empty"):
        _upload(db, "analyst", b"")
    rejected = _upload(db, "analyst", _rows(GANJINGZI).replace(b"population", b"populaton"))
    assert rejected.status == "rejected" and not rejected.preview
    assert rejected.problems[0].field == "variable" and rejected.problems[0].suggestion == "population"


def _three_batches(db) -> dict[str, int]:
    return {who: _upload(db, who).id for who in ("analyst", "ganjingzi", "admin")}


#: which of the three batches (uploaded by analyst, ganjingzi, admin) each caller lists
SEES = {"admin": {"analyst", "ganjingzi", "admin"}, "analyst": {"analyst", "ganjingzi", "admin"},
        "admin-read": {"analyst", "ganjingzi", "admin"}, "ganjingzi": {"ganjingzi"}, "ganjingzi-read": {"ganjingzi"},
        "zhongshan": set()}


def test_who_sees_which_batch(db):
    ids = _three_batches(db)
    for who, visible in SEES.items():
        listed = {b.id for b in service.list_batches(db, PEOPLE[who])}
        assert listed == {ids[name] for name in visible}, who
        for name, batch_id in ids.items():
            if name in visible:
                batch = service.get_batch(db, PEOPLE[who], batch_id)
                assert batch.id == batch_id and batch.preview_now and batch.preview_now.rows == 1
            else:
                with pytest.raises(NotFound):
                    service.get_batch(db, PEOPLE[who], batch_id)
    for who in ("enterprise", "viewer"):
        with pytest.raises(Forbidden):
            service.list_batches(db, PEOPLE[who])
        with pytest.raises(Forbidden):
            service.get_batch(db, PEOPLE[who], ids["admin"])


@pytest.mark.parametrize("batch_id", [0, -1, 2**31, 99999999999999999999999])
def test_an_id_out_of_range_is_not_found(db, batch_id):
    with pytest.raises(NotFound):
        service.get_batch(db, PEOPLE["admin"], batch_id)
    with pytest.raises(NotFound):
        service.approve_batch(db, PEOPLE["admin"], batch_id)
    with pytest.raises(NotFound):
        service.discard_batch(db, PEOPLE["admin"], batch_id)


def test_only_an_admin_with_write_scope_approves_and_only_once(db):
    batch = _upload(db, "ganjingzi")
    for who in ("analyst", "ganjingzi", "zhongshan", "enterprise", "viewer", "admin-read"):
        before = _footprint(db)
        with pytest.raises(Forbidden):
            service.approve_batch(db, PEOPLE[who], batch.id)
        assert _footprint(db) == before, who
    before = _footprint(db)
    approval = service.approve_batch(db, PEOPLE["admin"], batch.id, reason="Ganjingzi census")
    assert approval.batch.status == "approved" and approval.batch.approved_by == "admin"
    assert approval.inserted == 1 and approval.revision is not None
    after = _footprint(db)
    assert after[2] == before[2] + 1  # the value is in the ledger
    with db.session() as session:  # the approval is audited in the same transaction
        assert audit.count(session, action="import.approve", entity_id=str(batch.id)) == 1
    with pytest.raises(Conflict):
        service.approve_batch(db, PEOPLE["admin"], batch.id)
    with pytest.raises(Conflict):
        service.discard_batch(db, PEOPLE["admin"], batch.id)
    assert _footprint(db)[1:] == after[1:]


def test_discard_by_the_uploader_or_an_admin(db):
    ids = _three_batches(db)
    with pytest.raises(Forbidden):  # an analyst sees the district's batch but may not discard it
        service.discard_batch(db, PEOPLE["analyst"], ids["ganjingzi"])
    with pytest.raises(NotFound):  # another district does not even see it
        service.discard_batch(db, PEOPLE["zhongshan"], ids["ganjingzi"])
    with pytest.raises(Forbidden):  # the uploader's read-only token
        service.discard_batch(db, PEOPLE["ganjingzi-read"], ids["ganjingzi"])
    with pytest.raises(NotFound):  # the admin's batch is not hers to see: its existence is not leaked
        service.discard_batch(db, PEOPLE["ganjingzi"], ids["admin"])
    own = service.discard_batch(db, PEOPLE["ganjingzi"], ids["ganjingzi"], reason="wrong year")
    assert own.status == "discarded" and own.reason == "wrong year"
    assert service.discard_batch(db, PEOPLE["admin"], ids["analyst"]).status == "discarded"
    with pytest.raises(Conflict):
        service.discard_batch(db, PEOPLE["ganjingzi"], ids["ganjingzi"])
    with pytest.raises(Conflict):
        service.approve_batch(db, PEOPLE["admin"], ids["analyst"])
    with db.session() as session:
        assert audit.count(session, action="import.discard") == 2


def test_results_are_typed_and_keep_the_api_shape(db):
    batch = service.get_batch(db, PEOPLE["analyst"], _upload(db, "analyst").id)
    assert isinstance(batch, service.ImportBatch) and isinstance(batch.preview, service.ImportPreview)
    data = batch.to_dict()
    assert data["preview"]["status"] == "official" and data["preview"]["regions"] == [GANJINGZI]
    assert data["preview_now"]["status"] == "validated" and data["preview_now"]["new"] == 1


def test_a_listing_limit_counts_only_the_callers_batches(db):
    own = _upload(db, "ganjingzi").id
    for _ in range(3):
        _upload(db, "analyst")
    assert [b.id for b in service.list_batches(db, PEOPLE["ganjingzi"], limit=1)] == [own]
    assert len(service.list_batches(db, PEOPLE["admin"], limit=2)) == 2


def test_approval_refuses_a_district_batch_holding_another_districts_rows(db):
    """A batch stored before the upload rule (the web page used to skip it) cannot reach the ledger either."""
    from citycarbon.store import imports, users

    with db.session() as session:
        user, _ = users.create_user(session, username="gjz-office", role="district", regions=[GANJINGZI],
                                    actor="test")
        uploader = users.principal_for_user(user)
        legacy = imports.create_batch(session, filename="legacy.csv", content=_rows(GANJINGZI, ZHONGSHAN),
                                      actor=uploader)
    assert legacy["status"] == "validated"
    before = _footprint(db)
    with pytest.raises(InputError) as caught:
        service.approve_batch(db, PEOPLE["admin"], legacy["id"])
    assert [(p.row, p.field, p.value) for p in caught.value.problems] == [(3, "region", ZHONGSHAN)]
    assert _footprint(db) == before and service.get_batch(db, PEOPLE["admin"], legacy["id"]).status == "validated"
    own = service.upload_batch(db, uploader, filename="own.csv", content=_rows(GANJINGZI))
    assert service.approve_batch(db, PEOPLE["admin"], own.id).inserted == 1
