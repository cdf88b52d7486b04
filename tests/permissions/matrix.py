"""The declared permission matrix: every write of the services × every caller → the answer, and the faces that
offer each write. The tests of this package walk it at the service level (``test_service_matrix.py``, SQLite and
PostgreSQL), through the API, the web cockpit and the CLI (``test_face_matrix.py``), and fail when a service
write or a non-GET API route is missing from it (``test_matrix_complete.py``).

Callers (:data:`ACTORS`): a name, with ``:read`` for a read-only API token of that user (the others are login
sessions, full scope). The object each write is tried on belongs to district A (``210202``), enterprise X, or was
uploaded by ``district-a``: so ``district-a``/``enterprise-x`` are "own", ``district-b``/``enterprise-y``
"another's".

Answers: ``ok`` (done, audited), ``403`` (the role or scope may not: :class:`~citycarbon.errors.Forbidden`),
``404`` (not the caller's: :class:`~citycarbon.errors.NotFound`, the same answer as for an object that does not
exist: existence is not leaked), ``422`` (the caller may write but not this content: an
:class:`~citycarbon.errors.InputError` naming row and field; nothing stored), ``rej`` (the batch is taken, its
rows are rejected with a reason: nothing reaches the lake).

To add a write: add a row to :data:`TABLE` (the expected answer for every caller), a :class:`Write` to
:data:`WRITES` (service function and faces) and a case to ``tests/permissions/cases.py`` (how to set up the
object, call the service, and tell "changed" from "unchanged").
"""

from __future__ import annotations

from dataclasses import dataclass

#: the callers, in the matrix's column order
ACTORS: tuple[str, ...] = ("admin", "admin:read", "analyst", "analyst:read", "district-a", "district-b",
                           "district-a:read", "enterprise-x", "enterprise-y", "enterprise-x:read", "viewer",
                           "dept-a", "dept-b")
OUTCOMES = ("ok", "403", "404", "422", "rej")

#: write          admin adm:r analyst ana:r dist-a dist-b dA:r ent-x ent-y eX:r viewer dept-a dept-b
TABLE = """
import.upload       ok   403   ok      403   ok     422    403  403   403   403  403  403    403
import.approve      ok   403   403     403   403    403    403  403   403   403  403  403    403
import.discard      ok   403   403     403   ok     404    403  403   403   403  403  403    403
import.file         ok   403   403     403   403    403    403  403   403   403  403  403    403
user.create         ok   403   403     403   403    403    403  403   403   403  403  403    403
user.create_admin   ok   403   403     403   403    403    403  403   403   403  403  403    403
user.update         ok   403   403     403   403    403    403  403   403   403  403  403    403
user.disable        ok   403   403     403   403    403    403  403   403   403  403  403    403
user.reset_password ok   403   403     403   403    403    403  403   403   403  403  403    403
user.unlock         ok   403   403     403   403    403    403  403   403   403  403  403    403
user.reset_totp     ok   403   403     403   403    403    403  403   403   403  403  403    403
token.issue_for     ok   403   403     403   403    403    403  403   403   403  403  403    403
token.issue_own     ok   403   ok      403   ok     ok     403  ok    ok    403  403  ok     ok
token.revoke        ok   404   404     404   ok     404    ok   404   404   404  404  404    404
totp.rotate_key     ok   403   403     403   403    403    403  403   403   403  403  403    403
readings.ingest     ok   403   403     403   403    403    403  ok    rej   403  403  403    403
job.recompute       ok   403   ok      403   403    403    403  403   403   403  403  403    403
target.set          ok   403   403     403   403    403    403  403   403   403  403  403    403
target.allocate     ok   403   403     403   403    403    403  403   403   403  403  403    403
city.create         ok   403   403     403   403    403    403  403   403   403  403  403    403
city.create_upload  ok   403   403     403   403    403    403  403   403   403  403  403    403
user.city           ok   403   403     403   403    403    403  403   403   403  403  403    403
gov.org_edit        ok   403   403     403   403    403    403  403   403   403  403  403    403
gov.org_put         ok   403   403     403   403    403    403  403   403   403  403  403    403
gov.org_import      ok   403   403     403   403    403    403  403   403   403  403  403    403
gov.measure_edit    ok   403   403     403   403    403    403  403   403   403  403  403    403
gov.matrix_import   ok   403   403     403   403    403    403  403   403   403  403  403    403
plan.register       ok   403   403     403   403    403    403  403   403   403  403  403    403
plan.withdraw       ok   403   403     403   403    403    403  403   403   403  403  403    403
plan.withdraw_post  ok   403   403     403   403    403    403  403   403   403  403  403    403
supervision.scan    ok   403   403     403   403    403    403  403   403   403  403  403    403
supervision.answer  ok   403   403     403   404    404    404  404   404   404  404  ok     404
supervision.close   ok   403   403     403   404    404    404  404   404   404  404  403    404
supervision.template ok  403   403     403   403    403    403  403   403   403  403  403    403
calendar.import     ok   403   403     403   403    403    403  403   403   403  403  403    403
inbox.read          404  404   404     404   404    404    404  404   404   404  404  ok     404
gov.round_open      ok   403   403     403   403    403    403  403   403   403  403  403    403
gov.round_close     ok   403   403     403   403    403    403  403   403   403  403  403    403
gov.filing_save     ok   403   403     403   404    404    404  404   404   404  404  ok     404
gov.filing_submit   ok   403   403     403   404    404    404  404   404   404  404  ok     404
gov.filing_review   ok   403   403     403   404    404    404  404   404   404  404  403    404
gov.filing_attach   ok   403   403     403   404    404    404  404   404   404  404  ok     404
project.create      ok   403   403     403   ok     422    403  ok    422   403  403  403    403
project.edit        ok   403   403     403   ok     404    403  ok    404   403  404  403    403
project.import      ok   403   403     403   ok     422    403  ok    422   403  403  403    403
ledger.add_source   ok   403   403     403   403    403    403  403   403   403  403  403    403
ledger.edit_source  ok   403   403     403   403    403    403  403   403   403  403  403    403
ledger.import       ok   403   403     403   403    403    403  403   403   403  403  403    403
ledger.allocate     ok   403   403     403   403    403    403  403   403   403  403  403    403
ledger.release      ok   403   403     403   403    403    403  403   403   403  403  403    403
project.submit      ok   403   403     403   ok     404    403  ok    404   403  404  403    403
project.complete    ok   403   403     403   403    404    403  403   404   403  404  403    403
project.comment     ok   403   ok      403   403    404    403  403   404   403  404  403    403
project.decide      ok   403   403     403   403    404    403  403   404   403  404  403    403
project.commission  ok   403   403     403   ok     404    403  ok    404   403  404  403    403
project.accept      ok   403   403     403   403    404    403  403   404   403  404  403    403
project.withdraw    ok   403   403     403   ok     404    403  ok    404   403  404  403    403
energy_project.create ok 403   403     403   ok     422    403  403   403   403  403  403    403
energy_project.edit ok   403   403     403   ok     404    403  403   403   403  403  403    403
energy_project.stage ok  403   403     403   ok     404    403  403   403   403  403  403    403
energy_project.import ok 403   403     403   ok     422    403  403   403   403  403  403    403
assessment.scheme   ok   403   403     403   403    403    403  403   403   403  403  403    403
assessment.run      ok   403   403     403   403    403    403  403   403   403  403  403    403
assessment.adjust   ok   403   403     403   403    404    403  404   404   404  404  404    404
assessment.object   403  403   403     403   ok     404    403  404   404   404  404  404    404
assessment.answer   ok   403   403     403   403    403    403  404   404   404  404  404    404
assessment.publish  ok   403   403     403   403    403    403  404   404   404  404  404    404
"""
# Notes on cells that are not plain role checks:
# - import.upload district-b: a row of another district is refused whole, naming the row (422), nothing stored.
# - import.file: upload and approve at once (`citycarbon data import --approve`): the approver's rule first.
# - import.discard analyst: sees every batch (city-wide), but only the uploader or an admin discards (403);
#   district-b does not see district-a's batch at all (404).
# - token.issue_own: a token is minted only from a login session (a token never mints another: 403) and a write
#   token only for a role that may write (viewer: 403).
# - token.revoke: one's own token with any credential (a leaked token can be killed from a read token); another
#   user's token is 404 for everyone but an admin with write access (admin:read: 404 as well).
# - readings.ingest enterprise-y: the batch is recorded as a submission, its rows of enterprise X's point rejected.
# - supervision.answer/close: the item is unit miit's (dept-a's). The office and analysts see it (a read token or an
#   analyst may not answer: 403; only the office closes: 403 for dept-a); every other caller does not see it (404).
#   Through the API a read token is refused by the route's write rule first (403).
# - inbox.read: a message to unit miit: only its users see it (the office's inbox holds the office's messages).
# - energy_project.*: the energy-project registry (issue 15 item 6); the project is in district A. The office and
#   district users write (analysts, departments, viewers: 403; enterprise users do not even read it: 403); a
#   project of another district is 404 to district-b; registering or importing one in district A is 422 for
#   district-b (the region_code field/row is named, nothing stored).
# - gov.filing_*: the object is 工业和信息化局's (miit) filing: dept-a (miit) files it; admin:read and analysts read it
#   but may not write (403); every caller who may not read it (another unit, a district, an enterprise, a viewer)
#   gets 404. The API answers 403 to read-only tokens before looking (require_write / require_admin_write).
# - project.*: a project of district A whose applicant is enterprise X (issue 15, the registry). Filing is for the
#   office, district and enterprise users with write access (analysts, departments, viewers: 403); district-b files
#   only in its districts and enterprise-y only for its own registry code (422, naming the column); an edit of
#   another unit's project is 404, of a readable one the caller may not file 403 (admin:read, departments). The
#   API answers 403 to read-only tokens before looking (require_write).

# - assessment.* (issue 16, runs): a draft run of the year under a test scheme over the seeded registry; the unit
#   is 中山区 (d210202, district A). The office runs, adjusts, answers and publishes (everyone else 403 where the
#   run's row is visible to them: the office's read token, analysts, district-a); only the unit's own users with
#   write access object (district-a; its read token 403; the office 403: it does not object to itself). Callers
#   who may not see the draft's row (enterprises, the viewer, departments; district-b for 中山区's row) get 404;
#   district-b sees the run (its own row 西岗区) and may not answer or publish (403). Through the API
#   the office's routes answer 403 to everyone but the admin before looking (require_admin_write), and the
#   objection route 403 to read-only tokens (require_write).

def _parse(table: str) -> dict[str, dict[str, str]]:
    matrix: dict[str, dict[str, str]] = {}
    for line in table.strip().splitlines():
        name, *cells = line.split()
        assert len(cells) == len(ACTORS), f"{name}: {len(cells)} cells for {len(ACTORS)} callers"
        assert set(cells) <= set(OUTCOMES), f"{name}: unknown outcome in {cells}"
        assert name not in matrix, f"{name} declared twice"
        matrix[name] = dict(zip(ACTORS, cells, strict=True))
    return matrix


#: write name → caller → expected answer
MATRIX: dict[str, dict[str, str]] = _parse(TABLE)


@dataclass(frozen=True)
class Write:
    """A write and the faces that offer it. ``service``: the dotted service function (or ``Class.method``).
    ``api``/``web``: (method, route path) of the face; ``web_offers``: the callers to whom the web page offers
    the form (others get 403 from the page whatever the service would say; None: every caller).
    ``cli``: the CLI command (the CLI acts as the operator, an administrator). ``api_answers``: cells where the
    API answers otherwise than the service for a login session, because the API's callers are bearer tokens."""

    name: str
    service: str
    api: tuple[str, str] | None = None
    web: tuple[str, str] | None = None
    web_offers: frozenset[str] | None = None
    cli: str | None = None
    api_answers: dict[str, str] | None = None


_ADMINS = frozenset({"admin"})
#: API callers holding a read-only token (the viewer's is read-only too): refused by require_write before the
#: service looks for the object
_READ_TOKENS_403 = {"district-a:read": "403", "enterprise-x:read": "403", "viewer": "403"}
#: the project workflow's office routes (require_admin_write): every caller but the admin is refused before the
#: service looks for the project (403 where the service would answer 404)
_PROJECT_OFFICE_API = {"district-b": "403", "enterprise-y": "403", "viewer": "403"}
WRITES: tuple[Write, ...] = (
    Write("import.upload", "citycarbon.services.imports.upload_batch", ("POST", "/imports"), ("POST", "/imports"),
          cli="imports upload"),
    Write("import.approve", "citycarbon.services.imports.approve_batch", ("POST", "/imports/{batch_id}/approve"),
          ("POST", "/imports/{batch_id}/approve"), cli="imports approve"),
    Write("import.discard", "citycarbon.services.imports.discard_batch", ("POST", "/imports/{batch_id}/discard"),
          ("POST", "/imports/{batch_id}/discard"), cli="imports discard"),
    Write("import.file", "citycarbon.services.imports.import_file", cli="data import"),
    Write("user.create", "citycarbon.services.users.create_user", ("POST", "/users"), ("POST", "/admin/users"),
          _ADMINS, cli="users add"),
    Write("user.create_admin", "citycarbon.services.users.create_admin", cli="users create-admin"),
    Write("user.update", "citycarbon.services.users.update_user", ("PATCH", "/users/{username}")),
    Write("user.disable", "citycarbon.services.users.set_disabled", ("PATCH", "/users/{username}"),
          ("POST", "/admin/users/{username}/disable"), _ADMINS, cli="users disable"),
    Write("user.reset_password", "citycarbon.services.users.reset_password",
          ("POST", "/users/{username}/reset-password"), ("POST", "/admin/users/{username}/reset-password"),
          _ADMINS, cli="users reset-password"),
    Write("user.unlock", "citycarbon.services.users.unlock_user", ("POST", "/users/{username}/unlock"),
          ("POST", "/admin/users/{username}/unlock"), _ADMINS, cli="users unlock"),
    Write("user.reset_totp", "citycarbon.services.users.reset_totp", ("POST", "/users/{username}/reset-totp"),
          ("POST", "/admin/users/{username}/reset-totp"), _ADMINS, cli="users reset-totp"),
    Write("token.issue_for", "citycarbon.services.users.issue_token", ("POST", "/users/{username}/tokens"),
          ("POST", "/admin/users/{username}/tokens"), _ADMINS, cli="users token"),
    # a bearer token never mints another token (403 whatever its scope); one's own token comes from a login session
    Write("token.issue_own", "citycarbon.services.users.issue_token", ("POST", "/tokens"),
          api_answers=dict.fromkeys(ACTORS, "403")),
    Write("token.revoke", "citycarbon.services.users.revoke_token", ("DELETE", "/tokens/{prefix}"),
          ("POST", "/admin/tokens/{prefix}/revoke"), _ADMINS, cli="users revoke-token"),
    Write("totp.rotate_key", "citycarbon.services.users.rotate_totp_key", cli="users rotate-totp-key"),
    Write("readings.ingest", "citycarbon.services.monitoring.service.MonitoringService.ingest",
          ("POST", "/monitoring/readings")),
    Write("job.recompute", "citycarbon.services.jobs.submit_recompute", ("POST", "/jobs/recompute")),
    # issue 13: target values set by the office (admins within their city scope) and explicit cities
    Write("target.set", "citycarbon.services.targets.set_target_value", ("POST", "/targets/{target_id}/values"),
          ("POST", "/targets/values"), cli="targets set"),
    Write("target.allocate", "citycarbon.services.targets.set_allocation",
          ("POST", "/targets/{target_id}/allocations"), ("POST", "/targets/allocations"), cli="targets allocate"),
    Write("city.create", "citycarbon.services.cities.init_city", cli="city init"),
    Write("city.create_upload", "citycarbon.services.cities.init_city_text", ("POST", "/cities"),
          ("POST", "/admin/cities"), _ADMINS),
    Write("user.city", "citycarbon.services.cities.assign_user_city", ("PUT", "/users/{username}/city"),
          cli="city assign-user"),
    # issue 14: the organisation registry and the responsibility matrix: the office only
    Write("gov.org_edit", "citycarbon.services.governance.registry.edit_org", ("PATCH", "/governance/orgs/{code}"),
          ("POST", "/governance/orgs/{org_code}"), cli="governance orgs set"),
    Write("gov.org_put", "citycarbon.services.governance.registry.edit_org", ("PUT", "/governance/orgs/{code}")),
    Write("gov.org_import", "citycarbon.services.governance.registry.import_orgs",
          ("POST", "/governance/orgs/import"), ("POST", "/governance/orgs/import"), cli="governance orgs import"),
    Write("gov.measure_edit", "citycarbon.services.governance.registry.edit_measure",
          ("PATCH", "/governance/matrix/{code}"), ("POST", "/governance/matrix/{measure_code}"),
          cli="governance matrix set"),
    Write("gov.matrix_import", "citycarbon.services.governance.registry.import_matrix",
          ("POST", "/governance/matrix/import"), ("POST", "/governance/matrix/import"),
          cli="governance matrix import"),
    # issue 14 item 3: "1+N" implementation plans, registered and withdrawn by the office only
    Write("plan.register", "citycarbon.services.governance.plans.register_plan", ("POST", "/governance/plans"),
          ("POST", "/governance/plans"), cli="governance plans register"),
    Write("plan.withdraw", "citycarbon.services.governance.plans.withdraw_plan",
          ("DELETE", "/governance/plans/{plan_code}"), ("POST", "/governance/plans/{plan_code}/withdraw"),
          cli="governance plans withdraw"),
    Write("plan.withdraw_post", "citycarbon.services.governance.plans.withdraw_plan",
          ("POST", "/governance/plans/{plan_code}/withdraw")),
    # issue 14 items 5, 8: supervision (督办), the working-day calendar, the inbox
    Write("supervision.scan", "citycarbon.services.governance.supervision.scan",
          ("POST", "/governance/supervision/scan"), ("POST", "/governance/supervision/scan"),
          cli="governance supervise scan"),
    Write("supervision.answer", "citycarbon.services.governance.supervision.answer",
          ("POST", "/governance/supervision/{item_id}/answer"), ("POST", "/governance/supervision/{item_id}/answer"),
          cli="governance supervise answer",
          api_answers={"district-a:read": "403", "enterprise-x:read": "403", "viewer": "403"}),
    Write("supervision.close", "citycarbon.services.governance.supervision.close",
          ("POST", "/governance/supervision/{item_id}/close"), ("POST", "/governance/supervision/{item_id}/close"),
          cli="governance supervise close",
          api_answers={a: "403" for a in ("district-a", "district-b", "district-a:read", "enterprise-x",
                                          "enterprise-y", "enterprise-x:read", "viewer", "dept-b")}),
    Write("supervision.template", "citycarbon.services.governance.supervision.upload_template",
          ("POST", "/governance/supervision/template"), ("POST", "/governance/supervision/template"),
          cli="governance supervise template"),
    Write("calendar.import", "citycarbon.services.governance.supervision.import_calendar",
          ("POST", "/governance/calendar"), ("POST", "/governance/calendar"), cli="governance calendar import"),
    Write("inbox.read", "citycarbon.services.governance.inbox.mark_read", ("POST", "/governance/inbox/read"),
          ("POST", "/governance/inbox/read"),
          api_answers={"admin:read": "403", "analyst:read": "403", "district-a:read": "403",
                       "enterprise-x:read": "403", "viewer": "403"}),
    # issue 14: progress rounds (调度) and filings
    Write("gov.round_open", "citycarbon.services.governance.rounds.open_round", ("POST", "/governance/rounds"),
          ("POST", "/governance/rounds"), cli="governance round open"),
    Write("gov.round_close", "citycarbon.services.governance.rounds.close_round",
          ("POST", "/governance/rounds/{code}/close"), ("POST", "/governance/rounds/{round_code}/close"),
          cli="governance round close"),
    Write("gov.filing_save", "citycarbon.services.governance.rounds.save_filing",
          ("PUT", "/governance/filings/{filing_id}"), ("POST", "/governance/filings/{filing_id}"),
          cli="governance filings file", api_answers=_READ_TOKENS_403),
    Write("gov.filing_submit", "citycarbon.services.governance.rounds.save_filing",
          ("PUT", "/governance/filings/{filing_id}"), ("POST", "/governance/filings/{filing_id}"),
          cli="governance filings submit", api_answers=_READ_TOKENS_403),
    Write("gov.filing_review", "citycarbon.services.governance.rounds.review_filing",
          ("POST", "/governance/filings/{filing_id}/review"), ("POST", "/governance/filings/{filing_id}/review"),
          cli="governance filings review", api_answers={a: "403" for a in ACTORS if a != "admin"}),
    Write("gov.filing_attach", "citycarbon.services.governance.rounds.attach_file",
          ("POST", "/governance/filings/{filing_id}/attachments"),
          ("POST", "/governance/filings/{filing_id}/attachments"), cli="governance filings attach",
          api_answers=_READ_TOKENS_403),
    # issue 15: the project registry (projects_registry)
    Write("project.create", "citycarbon.services.projects.registry.create_project", ("POST", "/projects"),
          ("POST", "/projects/new"), cli="projects create"),
    Write("project.edit", "citycarbon.services.projects.registry.edit_project", ("PATCH", "/projects/{code}"),
          cli="projects edit", api_answers={"viewer": "403"}),
    Write("project.import", "citycarbon.services.projects.registry.import_projects", ("POST", "/projects/import"),
          ("POST", "/projects/import"), cli="projects import"),
)
WRITES += (
    # issue 15: the replacement ledgers (sources, allocations): the office only (Principal.can_review_projects)
    Write("ledger.add_source", "citycarbon.services.projects.ledgers.add_source",
          ("POST", "/projects/ledgers/sources"), ("POST", "/projects/ledgers/sources"), cli="projects ledger add"),
    Write("ledger.edit_source", "citycarbon.services.projects.ledgers.edit_source",
          ("PATCH", "/projects/ledgers/sources/{source}")),
    Write("ledger.import", "citycarbon.services.projects.ledgers.import_sources", ("POST", "/projects/ledgers/import"),
          ("POST", "/projects/ledgers/import"), cli="projects ledger import"),
    Write("ledger.allocate", "citycarbon.services.projects.ledgers.allocate", ("POST", "/projects/{code}/allocations"),
          ("POST", "/projects/{project_code}/allocations"), cli="projects allocate"),
    Write("ledger.release", "citycarbon.services.projects.ledgers.release",
          ("POST", "/projects/allocations/{allocation_id}/release"),
          ("POST", "/projects/allocations/{allocation_id}/release"), cli="projects release"),
    # issue 15 item 5: the project workflow (project_workflow); the object is district A's, applicant enterprise X
    *(Write(f"project.{name}", f"citycarbon.services.projects.workflow.{func}", ("POST", f"/projects/{{code}}/{path}"),
            ("POST", f"/projects/{{project_code}}/{path}"), cli=f"projects {cli}", api_answers=answers)
      for name, func, path, cli, answers in (
          ("submit", "submit", "submit", "submit", {"viewer": "403"}),
          ("complete", "check_completeness", "completeness", "complete", _PROJECT_OFFICE_API),
          ("comment", "comment", "comments", "comment", {"viewer": "403"}),
          ("decide", "decide", "decision", "decide", _PROJECT_OFFICE_API),
          ("commission", "commission", "commissioning", "commission", {"viewer": "403"}),
          ("accept", "accept", "acceptance", "accept", _PROJECT_OFFICE_API),
          ("withdraw", "withdraw", "withdraw", "withdraw", {"viewer": "403"}))),
)
# issue 15 item 6: the energy-project registry (office; districts their districts' projects)
WRITES += (
    Write("energy_project.create", "citycarbon.services.projects.energy_projects.register_energy_project",
          ("POST", "/energy-projects"), ("POST", "/energy-projects"), cli="energy-projects add"),
    Write("energy_project.edit", "citycarbon.services.projects.energy_projects.update_energy_project",
          ("PATCH", "/energy-projects/{code}")),
    Write("energy_project.stage", "citycarbon.services.projects.energy_projects.move_stage",
          ("POST", "/energy-projects/{code}/stage"), ("POST", "/energy-projects/{energy_code}/stage"),
          cli="energy-projects stage"),
    Write("energy_project.import", "citycarbon.services.projects.energy_projects.import_energy_projects",
          ("POST", "/energy-projects/import"), ("POST", "/energy-projects/import"), cli="energy-projects import"),
)
WRITES_BY_NAME = {write.name: write for write in WRITES}

#: service functions that take a caller and write, but whose caller is not a Principal of the matrix:
#: the operator at the CLI (whoever runs it holds the database) or the login session itself
OPERATOR_WRITES: dict[str, str] = {
    "citycarbon.services.monitoring.submissions.ingest_reading_files": "CLI `monitoring ingest` (operator)",
    "citycarbon.services.monitoring.submissions.prune_submissions": "CLI `monitoring submissions prune` (operator)",
    "citycarbon.services.monitoring.submissions.ingest_payload":
        "the body of MonitoringService.ingest and the MQTT adapter: the Sender (Sender.of, the rule) is built by "
        "the caller from the Principal; walked as readings.ingest",
    "citycarbon.services.monitoring.submissions.record_refusal":
        "records a refused readings batch of a Sender (Sender.of already applied)",
    "citycarbon.services.monitoring.service.MonitoringService.record_refusal": "the same, for the HTTP face",
    "citycarbon.services.monitoring.registry.import_registry": "CLI `monitoring registry import` (operator)",
    "citycarbon.services.admin.ensure_ready": "start-up: migrate and seed the reference data (serve, CLI db)",
    "citycarbon.services.admin.first_start": "CLI `serve`: migrate, seed, the first admin once (operator)",
    "citycarbon.services.admin.seed": "CLI `db seed` (operator)",
    "citycarbon.services.admin.restore_backup": "CLI `restore` (operator; all or nothing, --wipe over data)",
    "citycarbon.services.projects.ledgers.release_project":
        "releases a project's allocations inside the workflow's rejection or withdrawal (the workflow applied the "
        "rule; each release audited with the workflow's actor)",
    "citycarbon.services.jobs.JobRunner.submit":
        "the runner's own record of a job whose rule the calling service applied (submit_recompute, ensembles)",
    "citycarbon.services.jobs.JobRunner.submit_tracked":
        "the runner's own record of a job that reports progress, whose rule the calling service applied "
        "(services.reports.generate.submit_report)",
}
#: the session's own writes (login, logout, password, TOTP): keyed by the session id, never another user's;
#: tests/services/test_auth_service.py and the API matrix (rule 'session': bearer tokens get 401) hold them
SESSION_WRITES: dict[tuple[str, str], str] = {
    ("POST", "/auth/login"): "citycarbon.services.auth.login",
    ("POST", "/auth/logout"): "citycarbon.services.auth.logout",
    ("POST", "/auth/password"): "citycarbon.services.auth.change_password",
    ("POST", "/auth/totp/enroll"): "citycarbon.services.auth.start_totp_enrollment",
    ("POST", "/auth/totp/confirm"): "citycarbon.services.auth.confirm_totp",
}
#: non-GET API routes that compute and answer without writing anything a caller owns (any authenticated caller)
COMPUTATIONS: dict[tuple[str, str], str] = {
    ("POST", "/pathways/run"): "runs a scenario (no state)",
    ("POST", "/pathways/attributions"): "Shapley attribution of a scenario (no state)",
    ("POST", "/pathways/ensembles"): "an ensemble; a large one is queued as the caller's own job (only the "
                                     "caller and admins see it)",
    ("POST", "/projects/check"): "the check of a project not stored (issue 15; nothing is written)",
}
#: public functions with a caller parameter that only read (the meta-test treats every other one as a write)
READS: frozenset[str] = frozenset({
    "citycarbon.services.imports.list_batches", "citycarbon.services.imports.get_batch",
    "citycarbon.services.imports.require_reader", "citycarbon.services.imports.require_importer",
    "citycarbon.services.imports.require_approver", "citycarbon.services.jobs.require_city_jobs",
    # the city scope (issue 14): checks and the pathway service's getter, no state changed
    "citycarbon.services.imports.require_city", "citycarbon.services.pathways.service_for",
    "citycarbon.services.monitoring.service.MonitoringService.require_city",
    "citycarbon.services.users.list_users", "citycarbon.services.users.get_user",
    "citycarbon.services.users.list_tokens",
    "citycarbon.services.monitoring.city.visible_units",
    "citycarbon.services.monitoring.submissions.submission_scope",
    "citycarbon.services.monitoring.service.MonitoringService.enterprises",
    "citycarbon.services.monitoring.service.MonitoringService.readings",
    "citycarbon.services.monitoring.service.MonitoringService.rollups",
    "citycarbon.services.monitoring.service.MonitoringService.submissions",
    "citycarbon.services.monitoring.service.MonitoringService.submission_rejections",
    "citycarbon.services.monitoring.service.MonitoringService.own_tokens",
    "citycarbon.services.monitoring.service.MonitoringService.visible_enterprises",
    "citycarbon.services.monitoring.submissions.Sender.of",
    "citycarbon.services.jobs.get_job",
    "citycarbon.services.audit.list_entries", "citycarbon.services.audit.verify_chain",
    "citycarbon.services.statistics.list_rows", "citycarbon.services.statistics.value_history",
    "citycarbon.services.cities.list_cities", "citycarbon.services.cities.city_info",
    "citycarbon.services.cities.require_city", "citycarbon.services.targets.list_targets",
    "citycarbon.services.targets.target_history",
    "citycarbon.services.governance.registry.list_orgs", "citycarbon.services.governance.registry.get_org",
    "citycarbon.services.governance.registry.list_measures", "citycarbon.services.governance.registry.get_measure",
    "citycarbon.services.governance.registry.measures_for_org",
    "citycarbon.services.governance.registry.orgs_workbook",
    "citycarbon.services.governance.registry.matrix_workbook",
    "citycarbon.services.governance.plans.list_plans", "citycarbon.services.governance.plans.get_plan",
    "citycarbon.services.governance.plans.plan_history", "citycarbon.services.governance.plans.check_plans",
    "citycarbon.services.governance.supervision.list_items", "citycarbon.services.governance.supervision.get_item",
    "citycarbon.services.governance.supervision.overdue",
    "citycarbon.services.governance.supervision.notice_docx",
    "citycarbon.services.governance.supervision.calendar_year",
    "citycarbon.services.governance.inbox.list_messages", "citycarbon.services.governance.inbox.unread_count",
    # governance summary (issue 14 items 6, 9, 10): the board, the round summary, unit reports (reads only)
    "citycarbon.services.governance.summary.board", "citycarbon.services.governance.summary.round_summary",
    "citycarbon.services.governance.summary.round_summary_xlsx",
    "citycarbon.services.governance.summary.round_summary_docx",
    "citycarbon.services.governance.summary.unit_report", "citycarbon.services.governance.summary.unit_report_docx",
    "citycarbon.services.governance.rounds.list_rounds", "citycarbon.services.governance.rounds.get_round",
    "citycarbon.services.governance.rounds.list_filings", "citycarbon.services.governance.rounds.my_filings",
    "citycarbon.services.governance.rounds.get_filing", "citycarbon.services.governance.rounds.list_attachments",
    "citycarbon.services.governance.rounds.get_attachment",
    # issue 15: the replacement ledgers (reads)
    "citycarbon.services.projects.ledgers.list_sources", "citycarbon.services.projects.ledgers.get_source",
    "citycarbon.services.projects.ledgers.project_allocations",
    "citycarbon.services.projects.ledgers.sources_workbook",
})
# issue 15: the project registry's reads (projects_registry)
READS = READS | frozenset({
    "citycarbon.services.projects.registry.get_project", "citycarbon.services.projects.registry.list_projects",
    "citycarbon.services.projects.registry.check_unsaved", "citycarbon.services.projects.registry.project_overview",
    "citycarbon.services.projects.registry.template_workbook",
    # issue 15 item 5: the project workflow's reads
    "citycarbon.services.projects.workflow.events", "citycarbon.services.projects.workflow.get_attachment",
    "citycarbon.services.projects.workflow.opinion_docx", "citycarbon.services.projects.workflow.workflow_view",
    "citycarbon.services.projects.workflow.actors",
    "citycarbon.services.projects.workflow.Meters.rollups",  # the protocol of MonitoringService.rollups (a read)
    # issue 15: the budget check and the pipeline (reads only)
    "citycarbon.services.projects.budget.budget_check", "citycarbon.services.projects.budget.pipeline",
    # issue 15 item 6: the energy-project registry (reads only)
    "citycarbon.services.projects.energy_projects.list_energy_projects",
    "citycarbon.services.projects.energy_projects.get_energy_project",
    "citycarbon.services.projects.energy_projects.energy_projects_workbook",
    "citycarbon.services.projects.energy_projects.wind_solar_status",
    "citycarbon.services.projects.energy_projects.registry_capacity_path",
})
# issue 16 (runs): assessment runs (services.assessment.runs)
_ASSESS_RUN = "/assessments/runs/{run_id}"
_ASSESS_OFFICE_API = {a: "403" for a in ACTORS if a != "admin"}
WRITES += (
    Write("assessment.scheme", "citycarbon.services.assessment.runs.register_scheme", ("POST", "/assessments/schemes")),
    Write("assessment.run", "citycarbon.services.assessment.runs.run_assessment", ("POST", "/assessments/runs"),
          cli="assess run"),
    Write("assessment.adjust", "citycarbon.services.assessment.runs.adjust",
          ("POST", _ASSESS_RUN + "/units/{unit}/adjust"), cli="assess adjust", api_answers=_ASSESS_OFFICE_API),
    Write("assessment.object", "citycarbon.services.assessment.runs.object_to",
          ("POST", _ASSESS_RUN + "/units/{unit}/objections"),
          api_answers={"admin:read": "403", "analyst:read": "403", "district-a:read": "403",
                       "enterprise-x:read": "403", "viewer": "403"}),
    Write("assessment.answer", "citycarbon.services.assessment.runs.answer_objection",
          ("POST", _ASSESS_RUN + "/objections/{objection_id}/answer"), cli="assess answer",
          api_answers=_ASSESS_OFFICE_API),
    Write("assessment.publish", "citycarbon.services.assessment.runs.publish", ("POST", _ASSESS_RUN + "/publish"),
          cli="assess publish", api_answers=_ASSESS_OFFICE_API),
)
WRITES_BY_NAME = {write.name: write for write in WRITES}
READS = READS | frozenset({
    "citycarbon.services.assessment.runs.list_schemes", "citycarbon.services.assessment.runs.list_runs",
    "citycarbon.services.assessment.runs.get_run", "citycarbon.services.assessment.runs.latest_run",
    "citycarbon.services.assessment.runs.unit_score", "citycarbon.services.assessment.runs.reproduce",
    "citycarbon.services.assessment.runs.published_results",
})

# issue 16 (reports): the yearly reports. report.generate: the city's report as a background job (the API's
# POST /reports/generate; the CLI's `report annual` is build_report, walked in tests/reports); report.narrative:
# an edit of the city report's narrative. The office and analysts with write access (can_generate_reports); the
# API refuses read-only tokens before the body (require_write: 403, as the service would).
MATRIX.update(_parse("""
report.generate     ok   403   ok      403   403    403    403  403   403   403  403  403    403
report.narrative    ok   403   ok      403   403    403    403  403   403   403  403  403    403
"""))
WRITES += (
    Write("report.generate", "citycarbon.services.reports.generate.submit_report", ("POST", "/reports/generate")),
    Write("report.narrative", "citycarbon.services.reports.narratives.set_narrative", ("PUT", "/reports/narratives")),
)
WRITES_BY_NAME = {write.name: write for write in WRITES}
OPERATOR_WRITES["citycarbon.services.reports.generate.build_report"] = (
    "the synchronous body of report.generate (the CLI's `report annual`, the operator); the same rule "
    "(can_generate_reports, a unit: can_file_for), walked in tests/reports")
READS = READS | frozenset({
    "citycarbon.services.reports.content.city_report", "citycarbon.services.reports.content.published_assessment",
    "citycarbon.services.reports.narratives.get_narratives",
    "citycarbon.services.reports.narratives.narrative_texts",
    "citycarbon.services.reports.units.unit_report", "citycarbon.services.reports.units.unit_summaries",
    "citycarbon.services.reports.units.unit_report_document",
    "citycarbon.services.reports.generate.list_documents", "citycarbon.services.reports.generate.get_document",
    "citycarbon.services.reports.generate.resolve_unit",
})
OPERATOR_WRITES["citycarbon.services.jobs.JobRunner.submit_tracked"] = (
    "the runner's own record of a job with progress whose rule the calling service applied (submit_report)")

# issue 16 (web): the same writes through the cockpit's forms (web/routes/assessment.py, web/routes/reports.py); each
# page calls the service with the caller's session, so the web answers the service's matrix cell.
_ASSESS_WEB_PATHS = {
    "assessment.run": ("POST", "/assessment/run"),
    "assessment.adjust": ("POST", "/assessment/{run_id}/{unit}/adjust"),
    "assessment.object": ("POST", "/assessment/{run_id}/{unit}/object"),
    "assessment.answer": ("POST", "/assessment/{run_id}/objections/{objection_id}/answer"),
    "assessment.publish": ("POST", "/assessment/{run_id}/publish"),
    "report.generate": ("POST", "/reports/generate"),
    "report.narrative": ("POST", "/reports/narratives"),
}
WRITES = tuple(Write(**{**vars(w), "web": _ASSESS_WEB_PATHS[w.name]}) if w.name in _ASSESS_WEB_PATHS else w
               for w in WRITES)
WRITES_BY_NAME = {write.name: write for write in WRITES}

# issue 17 (registry): hides the registry section of a run document from callers who may not read the registry
READS = READS | frozenset({"citycarbon.services.pathways.visible_document"})

# issue 17 (api): the goal-seek computes and answers (a seek with a probability is queued as the caller's own job)
COMPUTATIONS[("POST", "/pathways/seek")] = ("a goal-seek (no state); with a probability queued as the caller's own "
                                            "job (only the caller and admins see it)")
# issue 17 (integration): the pathways page's registry table reads the run document as the caller may see it
READS = READS | frozenset({"citycarbon.services.pathways.PathwayService.registry_beside"})
