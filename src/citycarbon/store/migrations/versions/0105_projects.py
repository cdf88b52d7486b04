"""The project gate (issue 15): projects under 节能审查, their workflow, the replacement ledgers and the
energy-project registry.

* ``proj_projects``, ``proj_project_versions``: fixed-asset investment projects and their history;
* ``proj_events``, ``proj_attachments``: the workflow (submitted, completeness, expert review, decision, 验收);
* ``proj_ledger_sources``, ``proj_ledger_allocations``: retired capacity and energy-consumption room, allocated
  to projects (each source at most once in all: the balance never goes below zero);
* ``energy_projects``, ``energy_project_versions``: the supply-side registry (wind, solar, storage, …).

See ``store/project_models.py``.

Revision ID: 0105_projects
Revises: 0104_governance
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0105_projects"
down_revision = "0104_governance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("energy_projects",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("city", sa.String(length=64), nullable=False),
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("name", sa.String(length=300), nullable=False),
    sa.Column("technology", sa.String(length=48), nullable=False),
    sa.Column("stage", sa.String(length=32), nullable=False),
    sa.Column("region_code", sa.String(length=12), nullable=False),
    sa.Column("capacity_mw", sa.Float(), nullable=False),
    sa.Column("storage_mwh", sa.Float(), nullable=True),
    sa.Column("owner", sa.String(length=300), nullable=False),
    sa.Column("owner_uscc", sa.String(length=18), nullable=True),
    sa.Column("approved_on", sa.Date(), nullable=True),
    sa.Column("construction_on", sa.Date(), nullable=True),
    sa.Column("grid_connected_on", sa.Date(), nullable=True),
    sa.Column("retired_on", sa.Date(), nullable=True),
    sa.Column("planned_on", sa.Date(), nullable=True),
    sa.Column("document", sa.String(length=200), nullable=False),
    sa.Column("plan_tasks", sa.JSON(), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("status", sa.String(length=32), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.String(length=128), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f(
        "pk_energy_projects")),
    sa.UniqueConstraint("city", "code", name=op.f(
        "uq_energy_projects_city_code"))
    )
    with op.batch_alter_table("energy_projects", schema=None) as batch_op:
        batch_op.create_index("ix_energy_projects_scope", ["city", "technology", "stage"], unique=False)

    op.create_table("proj_ledger_sources",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("city", sa.String(length=64), nullable=False),
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("amount", sa.String(length=40), nullable=False),
    sa.Column("unit", sa.String(length=64), nullable=False),
    sa.Column("product", sa.String(length=100), nullable=True),
    sa.Column("plant", sa.String(length=300), nullable=True),
    sa.Column("unit_name", sa.String(length=300), nullable=True),
    sa.Column("region_code", sa.String(length=12), nullable=True),
    sa.Column("retired_on", sa.Date(), nullable=True),
    sa.Column("document", sa.String(length=200), nullable=True),
    sa.Column("origin", sa.String(length=32), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(length=128), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f(
        "pk_proj_ledger_sources")),
    sa.UniqueConstraint("city", "code", name=op.f(
        "uq_proj_ledger_sources_city_code"))
    )
    op.create_table("proj_projects",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("city", sa.String(length=64), nullable=False),
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("name", sa.String(length=300), nullable=False),
    sa.Column("applicant_name", sa.String(length=300), nullable=False),
    sa.Column("applicant_uscc", sa.String(length=18), nullable=False),
    sa.Column("enterprise_id", sa.String(length=64), nullable=True),
    sa.Column("region_code", sa.String(length=12), nullable=False),
    sa.Column("industry_code", sa.String(length=8), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("application_date", sa.Date(), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("state", sa.String(length=32), nullable=False),
    sa.Column("decision", sa.String(length=32), nullable=True),
    sa.Column("decision_no", sa.String(length=100), nullable=True),
    sa.Column("decision_date", sa.Date(), nullable=True),
    sa.Column("conditions", sa.Text(), nullable=False),
    sa.Column("approved", sa.JSON(), nullable=True),
    sa.Column("summary", sa.JSON(), nullable=True),
    sa.Column("submitted_by", sa.String(length=128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f(
        "pk_proj_projects")),
    sa.UniqueConstraint("city", "code", name=op.f(
        "uq_proj_projects_city_code"))
    )
    with op.batch_alter_table("proj_projects", schema=None) as batch_op:
        batch_op.create_index("ix_proj_projects_enterprise", ["city", "applicant_uscc"], unique=False)
        batch_op.create_index("ix_proj_projects_scope", ["city", "region_code", "state"], unique=False)

    op.create_table("energy_project_versions",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("snapshot", sa.JSON(), nullable=False),
    sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("saved_by", sa.String(length=128), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(
        ["project_id"], ["energy_projects.id"], name=op.f(
        "fk_energy_project_versions_project_id_energy_projects"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f(
        "pk_energy_project_versions")),
    sa.UniqueConstraint("project_id", "version", name=op.f(
        "uq_energy_project_versions_project_id_version"))
    )
    with op.batch_alter_table("energy_project_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_energy_project_versions_project_id"), ["project_id"], unique=False)

    op.create_table("proj_events",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("kind", sa.String(length=32), nullable=False),
    sa.Column("state_from", sa.String(length=32), nullable=True),
    sa.Column("state_to", sa.String(length=32), nullable=True),
    sa.Column("body", sa.JSON(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(
        ["project_id"], ["proj_projects.id"], name=op.f(
        "fk_proj_events_project_id_proj_projects"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f(
        "pk_proj_events"))
    )
    with op.batch_alter_table("proj_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proj_events_project_id"), ["project_id"], unique=False)

    op.create_table("proj_ledger_allocations",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("amount", sa.String(length=40), nullable=False),
    sa.Column("unit", sa.String(length=64), nullable=False),
    sa.Column("requested_amount", sa.String(length=40), nullable=False),
    sa.Column("requested_unit", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(length=128), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("released_by", sa.String(length=128), nullable=True),
    sa.Column("note", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(
        ["project_id"], ["proj_projects.id"], name=op.f(
        "fk_proj_ledger_allocations_project_id_proj_projects")),
    sa.ForeignKeyConstraint(
        ["source_id"], ["proj_ledger_sources.id"], name=op.f(
        "fk_proj_ledger_allocations_source_id_proj_ledger_sources")),
    sa.PrimaryKeyConstraint("id", name=op.f(
        "pk_proj_ledger_allocations"))
    )
    with op.batch_alter_table("proj_ledger_allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proj_ledger_allocations_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proj_ledger_allocations_source_id"), ["source_id"], unique=False)

    op.create_table("proj_project_versions",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(length=32), nullable=False),
    sa.Column("snapshot", sa.JSON(), nullable=False),
    sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("saved_by", sa.String(length=128), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(
        ["project_id"], ["proj_projects.id"], name=op.f(
        "fk_proj_project_versions_project_id_proj_projects"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f(
        "pk_proj_project_versions")),
    sa.UniqueConstraint("project_id", "version", name=op.f(
        "uq_proj_project_versions_project_id_version"))
    )
    with op.batch_alter_table("proj_project_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proj_project_versions_project_id"), ["project_id"], unique=False)

    op.create_table("proj_attachments",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("blob_sha256", sa.String(length=64), nullable=False),
    sa.Column("filename", sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(
        ["blob_sha256"], ["gov_blobs.sha256"], name=op.f(
        "fk_proj_attachments_blob_sha256_gov_blobs")),
    sa.ForeignKeyConstraint(
        ["event_id"], ["proj_events.id"], name=op.f(
        "fk_proj_attachments_event_id_proj_events"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f(
        "pk_proj_attachments"))
    )
    with op.batch_alter_table("proj_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proj_attachments_event_id"), ["event_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("proj_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proj_attachments_event_id"))

    op.drop_table("proj_attachments")
    with op.batch_alter_table("proj_project_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proj_project_versions_project_id"))

    op.drop_table("proj_project_versions")
    with op.batch_alter_table("proj_ledger_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proj_ledger_allocations_source_id"))
        batch_op.drop_index(batch_op.f("ix_proj_ledger_allocations_project_id"))

    op.drop_table("proj_ledger_allocations")
    with op.batch_alter_table("proj_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proj_events_project_id"))

    op.drop_table("proj_events")
    with op.batch_alter_table("energy_project_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_energy_project_versions_project_id"))

    op.drop_table("energy_project_versions")
    with op.batch_alter_table("proj_projects", schema=None) as batch_op:
        batch_op.drop_index("ix_proj_projects_scope")
        batch_op.drop_index("ix_proj_projects_enterprise")

    op.drop_table("proj_projects")
    op.drop_table("proj_ledger_sources")
    with op.batch_alter_table("energy_projects", schema=None) as batch_op:
        batch_op.drop_index("ix_energy_projects_scope")

    op.drop_table("energy_projects")
