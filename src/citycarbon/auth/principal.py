"""The authenticated caller and the permission rules every adapter applies.

Roles (issue 4): ``admin`` (the city's dual-carbon office), ``analyst`` (reads everything, runs analyses,
imports statistics for approval), ``district`` (bound to one or more GB/T 2260 region codes: reads and
edits only those), ``enterprise`` (bound to one enterprise: sees only its own data and ingest tokens),
``viewer`` (read-only, public aggregates), ``department`` (issue 14: a member department of the leading group,
bound to one organisation code of the governance registry: files its own measures' progress, reads the
city's aggregate). Scopes narrow what a bearer token may do: ``read`` or
``write`` (write implies read). A login session carries the role's full scope.

Denials must not leak existence: adapters answer 404 for another region's or enterprise's object and
403 only where the object's existence is public (e.g. a write to a city-wide table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    analyst = "analyst"
    district = "district"
    enterprise = "enterprise"
    viewer = "viewer"
    department = "department"


ROLES: tuple[str, ...] = tuple(role.value for role in Role)
SCOPES: tuple[str, ...] = ("read", "write")

#: what each role may do at most (a token's scope can only narrow it)
_ROLE_CAN_WRITE = {
    Role.admin: True,
    Role.analyst: True,  # imports (pending approval), analyses, scenarios
    Role.district: True,  # its own regions' data only
    Role.enterprise: True,  # its own enterprise's readings and registry entries only
    Role.viewer: False,
    Role.department: True,  # its own organisation's filings and answers only
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``regions`` binds a district user; ``enterprise_id`` an enterprise user."""

    user_id: int
    username: str
    role: Role
    regions: frozenset[str] = field(default_factory=frozenset)
    enterprise_id: str | None = None
    scopes: frozenset[str] = frozenset(SCOPES)
    via: str = "session"  # "session" | "token" | "cli"
    #: the one city (plan code) the caller is scoped to; None: every city of the deployment
    city: str | None = None
    #: the organisation (governance registry code) a department user is bound to
    org: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "regions", frozenset(self.regions))
        object.__setattr__(self, "scopes", frozenset(self.scopes))
        unknown = self.scopes - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scope(s) {sorted(unknown)}; expected a subset of {list(SCOPES)}")
        if self.role is Role.district and not self.regions:
            raise ValueError("a district user must be bound to at least one region code")
        if self.role is Role.enterprise and not self.enterprise_id:
            raise ValueError("an enterprise user must be bound to an enterprise")
        if self.role is Role.department and not self.org:
            raise ValueError("a department user must be bound to an organisation")

    # -- generic -------------------------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def can_write(self) -> bool:
        return _ROLE_CAN_WRITE[self.role] and "write" in self.scopes

    @property
    def city_wide(self) -> bool:
        """Sees every region's detailed data (admin and analyst)."""
        return self.role in (Role.admin, Role.analyst)

    # -- regions ------------------------------------------------------------------------------------
    def can_read_region(self, code: str, *, city_code: str | None = None) -> bool:
        """Detailed data of a region. District users see their own regions (and nothing else; the
        city-wide aggregate is public and needs no region check). Viewers and enterprises see only
        public aggregates, never a region's detail."""
        if self.city_wide:
            return True
        if self.role is Role.district:
            return code in self.regions
        return False

    def can_write_region(self, code: str) -> bool:
        if not self.can_write:
            return False
        if self.role is Role.admin:
            return True
        if self.role is Role.district:
            return code in self.regions
        return False

    def visible_regions(self, all_codes: list[str] | tuple[str, ...]) -> list[str]:
        return [code for code in all_codes if self.can_read_region(code)]

    # -- enterprises --------------------------------------------------------------------------------
    def can_read_enterprise(self, enterprise_id: str, region: str | None = None) -> bool:
        if self.city_wide:
            return True
        if self.role is Role.enterprise:
            return enterprise_id == self.enterprise_id
        if self.role is Role.district and region is not None:
            return region in self.regions
        return False

    def can_write_enterprise(self, enterprise_id: str) -> bool:
        """Readings and registry entries of an enterprise: the admin, or the enterprise itself."""
        if not self.can_write:
            return False
        if self.role is Role.admin:
            return True
        return self.role is Role.enterprise and enterprise_id == self.enterprise_id

    # -- city-wide tables (plan, factors, statistics approval, users, audit) ------------------------
    def can_manage_users(self) -> bool:
        return self.is_admin and self.can_write

    def can_read_audit(self) -> bool:
        return self.is_admin

    def can_import_statistics(self) -> bool:
        """Upload and validate a statistics or balance file (district users: their regions' rows only)."""
        return self.can_write and self.role in (Role.admin, Role.analyst, Role.district)

    def can_approve_import(self) -> bool:
        return self.is_admin and self.can_write

    def can_start_city_jobs(self) -> bool:
        """Queue city-wide background work (recomputing every result of the ledger): the office and analysts
        with write access only — never an enterprise's or a district's token, which may write only their own
        rows and must not be able to load the whole city's computation."""
        return self.city_wide and self.can_write

    # -- cities (issue 13: one deployment holds several cities) -------------------------------------------
    def can_access_city(self, city: str) -> bool:
        """Read or write ``city``'s data and targets: a caller scoped to one city reaches only that city; an
        unscoped caller (the deployment's administrators, the CLI) reaches every city."""
        return self.city is None or self.city == city

    def can_manage_cities(self) -> bool:
        """Create cities: the deployment's administrators only (not scoped to a city)."""
        return self.is_admin and self.can_write and self.city is None

    def can_set_targets(self, city: str) -> bool:
        """Set a target value or a district allocation of ``city`` (the office: administrators)."""
        return self.is_admin and self.can_write and self.can_access_city(city)

    # -- governance (issue 14: responsibility, progress rounds, supervision) ---------------------------------
    def can_manage_governance(self, city: str) -> bool:
        """Edit the organisation registry and the responsibility matrix, register 1+N plans, open and close
        rounds, review filings, issue and close supervision items: the office (administrators) only."""
        return self.is_admin and self.can_write and self.can_access_city(city)

    def can_read_governance_detail(self, city: str) -> bool:
        """Every unit's measures, filings and supervision items: the office and analysts."""
        return self.city_wide and self.can_access_city(city)

    def acts_for_org(self, org_code: str, org_region: str | None = None) -> bool:
        """Whether the caller speaks for organisation ``org_code`` (reads its measures and filings): a department
        user for its own organisation, a district user for the district organisation whose region it holds,
        the office and analysts for every organisation."""
        if self.city_wide:
            return True
        if self.role is Role.department:
            return org_code == self.org
        if self.role is Role.district:
            return org_region is not None and org_region in self.regions
        return False

    def can_file_for(self, org_code: str, org_region: str | None = None) -> bool:
        """File progress or answer a supervision item for ``org_code``: that organisation's own department or
        district users (the office files nothing in a unit's name, but may for a unit without users)."""
        if not self.can_write:
            return False
        if self.role is Role.admin:
            return True
        if self.role in (Role.department, Role.district):
            return self.acts_for_org(org_code, org_region)
        return False

    # -- the project gate (issue 15) ---------------------------------------------------------------------------
    def can_read_project(self, region: str, enterprise_id: str | None) -> bool:
        """A fixed-asset investment project's detail: the office, analysts and the member departments (they
        review it: 工信 the capacity replacement, 生态环境 the 两高 list) every project; a district user its
        districts' projects; an enterprise user its own (the project's applicant is its enterprise). Viewers
        see only the pipeline's aggregate."""
        if self.city_wide or self.role is Role.department:
            return True
        if self.role is Role.district:
            return region in self.regions
        if self.role is Role.enterprise:
            return enterprise_id is not None and enterprise_id == self.enterprise_id
        return False

    def can_file_project(self, region: str, enterprise_id: str | None) -> bool:
        """File (create, edit while a draft or returned as incomplete, submit, withdraw) a project: an
        enterprise for itself, a district user in its districts, the office for anyone."""
        if not self.can_write:
            return False
        if self.role is Role.admin:
            return True
        if self.role is Role.district:
            return region in self.regions
        if self.role is Role.enterprise:
            return enterprise_id is not None and enterprise_id == self.enterprise_id
        return False

    def can_review_projects(self, city: str) -> bool:
        """The completeness check, the decision (approve, with conditions, reject; 文号), 验收, and the
        replacement ledgers (sources, allocations): the office (the 节能审查 authority's desk) only."""
        return self.is_admin and self.can_write and self.can_access_city(city)

    def can_comment_project(self, city: str) -> bool:
        """Expert-review comments and attachments: the office and analysts (the review's experts)."""
        return self.city_wide and self.can_write and self.can_access_city(city)

    def can_read_energy_projects(self) -> bool:
        """The energy-project registry (supply side, public information on wind, solar, storage …): every role
        but enterprise users."""
        return self.role is not Role.enterprise

    def can_edit_energy_project(self, region: str) -> bool:
        """Register or update an energy project (stage, dates, capacity): the office, or a district user in its
        districts."""
        if not self.can_write:
            return False
        if self.role is Role.admin:
            return True
        return self.role is Role.district and region in self.regions

    # -- assessment and the yearly reports (issue 16) ------------------------------------------------------------
    def can_manage_assessment(self, city: str) -> bool:
        """Run an assessment, set qualitative items (with a reason), answer objections, publish; register a new
        scheme version: the office (administrators) only."""
        return self.is_admin and self.can_write and self.can_access_city(city)

    def can_read_assessment_detail(self, city: str) -> bool:
        """Every unit's draft and breakdown (before publication too): the office and analysts."""
        return self.city_wide and self.can_access_city(city)

    def can_read_published_assessment(self, city: str) -> bool:
        """The published results (ranking and each unit's breakdown): every role of the city but enterprise
        users (a unit's own draft is :meth:`acts_for_org`)."""
        return self.role is not Role.enterprise and self.can_access_city(city)

    def can_object_assessment(self, org_code: str, org_region: str | None = None) -> bool:
        """Object to a unit's draft score: that unit's own department or district users (with write access)."""
        return (self.can_write and self.role in (Role.department, Role.district)
                and self.acts_for_org(org_code, org_region))

    def can_generate_reports(self, city: str) -> bool:
        """Generate the city's yearly report (a background job) and edit its narrative: the office and analysts
        with write access."""
        return self.city_wide and self.can_write and self.can_access_city(city)

    def can_read_city_report(self, city: str) -> bool:
        """Download the city's generated reports (for 市委/市政府): every role of the city but enterprise users."""
        return self.role is not Role.enterprise and self.can_access_city(city)

    def narrowed(self, scopes: set[str] | frozenset[str]) -> Principal:
        """The same principal with a token's (narrower) scopes; ``write`` implies ``read``."""
        wanted = set(scopes)
        if "write" in wanted:
            wanted.add("read")
        return Principal(self.user_id, self.username, self.role, self.regions, self.enterprise_id,
                         frozenset(wanted & self.scopes), via="token", city=self.city, org=self.org)

    def to_dict(self) -> dict:
        return {"user_id": self.user_id, "username": self.username, "role": self.role.value,
                "regions": sorted(self.regions), "enterprise_id": self.enterprise_id,
                "scopes": sorted(self.scopes), "via": self.via, "city": self.city, "org": self.org}
