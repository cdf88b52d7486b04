"""Submissions of HTTP ingest are kept with their rejected rows, and read back with the caller's scope:
``GET /api/v1/monitoring/submissions`` and ``/submissions/{id}/rejections``."""

from __future__ import annotations

import pytest

from citycarbon.monitoring.ingest import MAX_PAYLOAD_BYTES
from tests.monitoring.test_http import X, Y, env, post, readings, state  # noqa: F401  (env is a fixture)

SUBMISSIONS = "/api/v1/monitoring/submissions"


def listing(env, user: str = "enterprise-x", **params) -> tuple[list[dict], dict]:  # noqa: F811
    answer = env.get(SUBMISSIONS, user=user, scope="read", params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["data"], body["meta"]


def rejections(env, submission_id: int, user: str = "enterprise-x", **params):  # noqa: F811
    return env.get(f"{SUBMISSIONS}/{submission_id}/rejections", user=user, scope="read", params=params)


def test_a_batch_is_recorded_with_counts_rejected_rows_and_its_token(env):  # noqa: F811
    bad = {"point_id": "X-EL", "start": "2025-01-10T00:00:00", "end": "x", "value": 1, "unit": "kWh"}
    answer = post(env, {"readings": [*readings("X-EL", 3), bad, *readings("Y-EL", 1)], "batch_id": "gw-9"})
    assert answer.status_code == 200, answer.text
    meta = answer.json()["meta"]
    (row,), page = listing(env)
    assert row["id"] == meta["submission_id"] and page["paging"]["total"] == 1
    assert {k: row[k] for k in ("enterprise_id", "channel", "status", "submitted_by", "client_batch_id",
                                "lake_batch_id", "rows_received", "accepted", "duplicate", "revised",
                                "rejected", "rejections_kept", "refusal")} == {
        "enterprise_id": X, "channel": "http", "status": "stored", "submitted_by": "enterprise-x",
        "client_batch_id": "gw-9", "lake_batch_id": meta["batch_id"], "rows_received": 5, "accepted": 3,
        "duplicate": 0, "revised": 0, "rejected": 2, "rejections_kept": 2, "refusal": None}
    token = env.tokens[("enterprise-x", "write")]
    assert row["token_prefix"] == token.split("_")[1]  # the public prefix, never the secret
    assert token.split("_")[2] not in str(row)
    rows = rejections(env, row["id"]).json()
    assert [(r["row"], r["point_id"], r["field"]) for r in rows["data"]] == [(4, "X-EL", "start"), (5, "Y-EL",
                                                                                                    "point_id")]
    assert rows["data"][1]["reason"] == f"point 'Y-EL' is not a registered point of enterprise '{X}'"
    assert rows["meta"]["submission"]["rejected"] == 2


def test_a_batch_that_stores_nothing_still_leaves_a_trace(env):  # noqa: F811
    before = state(env)
    post(env, {"readings": [{"point_id": "X-EL", "start": 5, "value": None}, *readings("Y-EL", 2)]})
    assert state(env) == before
    (row,), _ = listing(env)
    assert (row["status"], row["lake_batch_id"], row["accepted"], row["rejected"]) == ("nothing_new", None, 0, 3)
    assert [r["row"] for r in rejections(env, row["id"]).json()["data"]] == [1, 2, 3]


@pytest.mark.parametrize(("raw", "status", "reason"), [
    (b"{not json", 422, "body: body is not valid JSON"),
    (b'{"readings": [1]}', 422, "readings[0]: readings[0] must be an object"),
    (b" " * (MAX_PAYLOAD_BYTES + 1), 413, f"exceeds {MAX_PAYLOAD_BYTES} bytes"),
])
def test_a_refused_batch_is_recorded_with_why(env, raw, status, reason):  # noqa: F811
    assert post(env, None, raw=raw).status_code == status
    (row,), _ = listing(env)
    assert row["status"] == "refused" and reason in row["refusal"] and row["rows_received"] == 0
    assert row["enterprise_id"] == X


def test_too_many_rows_is_refused_and_recorded(env):  # noqa: F811
    assert post(env, {"readings": readings("X-EL", 10_001)}).status_code == 413
    (row,), _ = listing(env)
    assert row["status"] == "refused" and "10001 readings in one batch; at most 10000" in row["refusal"]


def test_rejected_rows_are_capped_but_counted_exactly_and_paged(env):  # noqa: F811
    rows = [{"point_id": "NOPE", "start": "2025-01-10T00:00:00+08:00", "end": "2025-01-10T00:15:00+08:00",
             "value": 1, "unit": "kWh"}] * 1_200
    answer = post(env, {"readings": rows})
    assert answer.json()["data"]["rejected"] == 1_200
    (row,), _ = listing(env)
    assert (row["rejected"], row["rejections_kept"]) == (1_200, 1_000)
    last = rejections(env, row["id"], page=10, per_page=100).json()
    assert [r["row"] for r in last["data"]][-1] == 1_000 and last["meta"]["paging"]["total"] == 1_000


def test_submissions_are_scoped_like_the_other_reads(env):  # noqa: F811
    post(env, {"readings": readings("X-EL", 2)})
    post(env, {"readings": readings("Y-EL", 2)}, user="enterprise-y")
    post(env, {"readings": readings("Y-EL", 1, first="2025-02-01T00:00:00+08:00")}, user="admin")
    mine, _ = listing(env)
    assert {r["enterprise_id"] for r in mine} == {X}
    theirs, _ = listing(env, user="enterprise-y")
    assert [r["enterprise_id"] for r in theirs] == [Y, Y]  # the admin's batch of Y's point is Y's
    assert {r["submitted_by"] for r in theirs} == {"enterprise-y", "admin"}
    district_a, _ = listing(env, user="district-a")  # X is in 210202, Y in 210203
    assert {r["enterprise_id"] for r in district_a} == {X}
    office, _ = listing(env, user="analyst")
    assert len(office) == 3
    assert listing(env, user="viewer")[0] == []
    foreign = theirs[0]["id"]
    assert rejections(env, foreign).status_code == 404  # another enterprise's reads as absent
    assert rejections(env, 999_999).status_code == 404
    assert rejections(env, foreign, user="district-a").status_code == 404
    assert rejections(env, foreign, user="enterprise-y").status_code == 200
    assert listing(env, user="admin", enterprise_id=X, channel="http", status="stored")[0] == mine


def test_callers_who_may_not_ingest_leave_no_submission(env):  # noqa: F811
    assert post(env, None, raw=b"{not json", user="analyst").status_code == 422
    assert post(env, {"readings": readings("X-EL", 1)}, user="analyst").status_code == 403
    assert post(env, {"readings": readings("X-EL", 1)}, scope="read").status_code == 403
    assert listing(env, user="admin")[0] == []


def test_an_id_beyond_64_bits_is_bad_input_not_a_server_error(env):  # noqa: F811
    assert rejections(env, 2**70).status_code == 422
    assert rejections(env, 0).status_code == 422


def test_a_store_failure_while_recording_a_refusal_still_answers_the_refusal(env, monkeypatch):  # noqa: F811
    from citycarbon.store import monitoring_submissions

    def broken(*args, **kwargs):
        raise RuntimeError("store gone")

    monkeypatch.setattr(monitoring_submissions, "record_submission", broken)
    answer = post(env, None, raw=b"{not json")
    assert answer.status_code == 422 and answer.json()["error"]["problems"][0]["field"] == "body"
    monkeypatch.undo()
    assert listing(env, user="admin")[0] == []


def test_a_lone_surrogate_is_a_422_not_a_server_error(env):  # noqa: F811
    answer = post(env, None, raw=b'{"readings": [{"point_id": "\\ud83d", "value": 1}]}')
    assert answer.status_code == 422 and answer.json()["error"]["problems"][0]["field"] == "body"
    (row,), _ = listing(env)
    assert row["status"] == "refused" and "surrogate" in row["refusal"]


def test_the_office_list_counts_up_to_a_limit_and_pages_on(env, monkeypatch):  # noqa: F811
    """Above SUBMISSIONS_COUNT_LIMIT the total is a lower bound (flagged) and a full page still links on."""
    from citycarbon.services.monitoring import service as router

    for k in range(5):
        post(env, {"readings": readings("X-EL", 1, first=f"2025-03-0{k + 1}T00:00:00+08:00")})
    _, meta = listing(env, user="analyst", per_page=2)
    assert (meta["paging"]["total"], meta["paging"]["total_is_lower_bound"]) == (5, False)
    monkeypatch.setattr(router, "SUBMISSIONS_COUNT_LIMIT", 2)
    first, meta = listing(env, user="analyst", per_page=2)
    assert len(first) == 2 and meta["paging"]["total_is_lower_bound"] is True and meta["paging"]["links"]["next"]
    seen = [r["id"] for r in first]
    for page in (2, 3):
        rows, meta = listing(env, user="analyst", per_page=2, page=page)
        seen += [r["id"] for r in rows]
    assert len(set(seen)) == 5 and meta["paging"]["links"]["next"] is None  # the last, short page ends the list


def test_a_reading_from_the_future_is_rejected_recorded_and_leaves_the_lake_unchanged(env):  # noqa: F811
    """Issue 12: an enterprise token posted a reading dated 2030-01-01 and it was accepted."""
    before = state(env)
    answer = post(env, {"readings": readings("X-EL", 1, first="2030-01-01T00:00:00+08:00")})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert (data["accepted"], data["rejected"]) == (0, 1)
    assert data["rejected_rows"][0]["field"] == "end" and "from the future" in data["rejected_rows"][0]["reason"]
    assert state(env) == before
    (row,), _ = listing(env)
    (rejected,) = rejections(env, row["id"]).json()["data"]
    assert rejected["field"] == "end" and "server's clock" in rejected["reason"]
