"""Running the plan (issue 14): the governance tables and the ``department`` role.

* ``gov_orgs``, ``gov_measures``: the versioned organisation registry and responsibility matrix;
* ``gov_subplans``: the "1+N" implementation plans;
* ``gov_rounds``, ``gov_round_assignments``, ``gov_filings``, ``gov_filing_versions``, ``gov_blobs``,
  ``gov_filing_attachments``: progress rounds (调度), filings with their history and evidence;
* ``gov_supervision_items``, ``gov_calendar_days``, ``gov_notifications``: supervision (督办), the working-day
  calendar and the in-app inbox;
* ``gov_templates``: a city's replacement DOCX templates (the 督办通知);
* ``users.org_code``, ``users.email`` and the ``department`` role in ``ck_users_role``.

See ``store/governance_models.py``.

Revision ID: 0104_governance
Revises: 0103_city_targets
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0104_governance"
down_revision = "0103_city_targets"
branch_labels = None
depends_on = None

_ROLES_BEFORE = ("admin", "analyst", "district", "enterprise", "viewer")
_ROLES_AFTER = (*_ROLES_BEFORE, "department")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "gov_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_gov_blobs")),
    )
    op.create_table(
        "gov_calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("loaded_by", sa.String(length=128), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_gov_calendar_days")),
    )
    op.create_table(
        "gov_templates",
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by", sa.String(length=128), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["gov_blobs.sha256"], name=op.f("fk_gov_templates_sha256_gov_blobs")),
        sa.PrimaryKeyConstraint("city", "kind", name=op.f("pk_gov_templates")),
    )
    op.create_table(
        "gov_measures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("task", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("lead", sa.String(length=64), nullable=True),
        sa.Column("co_units", sa.JSON(), nullable=False),
        sa.Column("districts", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("change_reason", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_measures")),
        sa.UniqueConstraint("city", "code", "version", name=op.f("uq_gov_measures_city_code_version")),
    )
    with op.batch_alter_table("gov_measures", schema=None) as batch_op:
        batch_op.create_index("ix_gov_measures_current", ["city", "code", "valid_to"], unique=False)

    op.create_table(
        "gov_notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("org_code", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_notifications")),
    )
    with op.batch_alter_table("gov_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gov_notifications_city"), ["city"], unique=False)
        batch_op.create_index(batch_op.f("ix_gov_notifications_org_code"), ["org_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_gov_notifications_user_id"), ["user_id"], unique=False)

    op.create_table(
        "gov_orgs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("short_zh", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("change_reason", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_orgs")),
        sa.UniqueConstraint("city", "code", "version", name=op.f("uq_gov_orgs_city_code_version")),
    )
    with op.batch_alter_table("gov_orgs", schema=None) as batch_op:
        batch_op.create_index("ix_gov_orgs_current", ["city", "code", "valid_to"], unique=False)

    op.create_table(
        "gov_rounds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title_zh", sa.Text(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.String(length=128), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_rounds")),
        sa.UniqueConstraint("city", "code", name=op.f("uq_gov_rounds_city_code")),
    )
    op.create_table(
        "gov_subplans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("org_code", sa.String(length=64), nullable=True),
        sa.Column("title_zh", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_subplans")),
        sa.UniqueConstraint("city", "code", "version", name=op.f("uq_gov_subplans_city_code_version")),
    )
    op.create_table(
        "gov_filings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("measure_code", sa.String(length=32), nullable=False),
        sa.Column("org_code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("indicator_values", sa.JSON(), nullable=False),
        sa.Column("lag_reason", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["gov_rounds.id"], name=op.f("fk_gov_filings_round_id_gov_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_filings")),
        sa.UniqueConstraint(
            "round_id", "measure_code", "org_code", name=op.f("uq_gov_filings_round_id_measure_code_org_code")
        ),
    )
    with op.batch_alter_table("gov_filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gov_filings_measure_code"), ["measure_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_gov_filings_org_code"), ["org_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_gov_filings_round_id"), ["round_id"], unique=False)

    op.create_table(
        "gov_round_assignments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("measure_code", sa.String(length=32), nullable=False),
        sa.Column("org_code", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["gov_rounds.id"],
            name=op.f("fk_gov_round_assignments_round_id_gov_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_round_assignments")),
        sa.UniqueConstraint(
            "round_id", "measure_code", "org_code", name=op.f("uq_gov_round_assignments_round_id_measure_code_org_code")
        ),
    )
    with op.batch_alter_table("gov_round_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gov_round_assignments_org_code"), ["org_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_gov_round_assignments_round_id"), ["round_id"], unique=False)

    op.create_table(
        "gov_supervision_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("rule_code", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("measure_code", sa.String(length=32), nullable=False),
        sa.Column("org_code", sa.String(length=64), nullable=False),
        sa.Column("reason_zh", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("triggered_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("doc_number", sa.String(length=64), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=128), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["gov_rounds.id"],
            name=op.f("fk_gov_supervision_items_round_id_gov_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_supervision_items")),
        sa.UniqueConstraint(
            "city",
            "rule_code",
            "round_id",
            "measure_code",
            "org_code",
            name=op.f("uq_gov_supervision_items_city_rule_code_round_id_measure_code_org_code"),
        ),
    )
    with op.batch_alter_table("gov_supervision_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gov_supervision_items_city"), ["city"], unique=False)
        batch_op.create_index(batch_op.f("ix_gov_supervision_items_org_code"), ["org_code"], unique=False)

    op.create_table(
        "gov_filing_attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("filing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("supervision_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("filing_version", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["gov_filings.id"],
            name=op.f("fk_gov_filing_attachments_filing_id_gov_filings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["gov_blobs.sha256"], name=op.f("fk_gov_filing_attachments_sha256_gov_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["supervision_id"],
            ["gov_supervision_items.id"],
            name=op.f("fk_gov_filing_attachments_supervision_id_gov_supervision_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_filing_attachments")),
    )
    with op.batch_alter_table("gov_filing_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gov_filing_attachments_filing_id"), ["filing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gov_filing_attachments_supervision_id"), ["supervision_id"], unique=False)

    op.create_table(
        "gov_filing_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("filing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["gov_filings.id"],
            name=op.f("fk_gov_filing_versions_filing_id_gov_filings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_filing_versions")),
        sa.UniqueConstraint("filing_id", "version", name=op.f("uq_gov_filing_versions_filing_id_version")),
    )
    with op.batch_alter_table("gov_filing_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gov_filing_versions_filing_id"), ["filing_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("org_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), _in("role", _ROLES_AFTER))


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE role = 'department'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), _in("role", _ROLES_BEFORE))
        batch_op.drop_column("email")
        batch_op.drop_column("org_code")

    with op.batch_alter_table("gov_filing_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gov_filing_versions_filing_id"))

    op.drop_table("gov_filing_versions")
    with op.batch_alter_table("gov_filing_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gov_filing_attachments_supervision_id"))
        batch_op.drop_index(batch_op.f("ix_gov_filing_attachments_filing_id"))

    op.drop_table("gov_filing_attachments")
    with op.batch_alter_table("gov_supervision_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gov_supervision_items_org_code"))
        batch_op.drop_index(batch_op.f("ix_gov_supervision_items_city"))

    op.drop_table("gov_supervision_items")
    with op.batch_alter_table("gov_round_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gov_round_assignments_round_id"))
        batch_op.drop_index(batch_op.f("ix_gov_round_assignments_org_code"))

    op.drop_table("gov_round_assignments")
    with op.batch_alter_table("gov_filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gov_filings_round_id"))
        batch_op.drop_index(batch_op.f("ix_gov_filings_org_code"))
        batch_op.drop_index(batch_op.f("ix_gov_filings_measure_code"))

    op.drop_table("gov_filings")
    op.drop_table("gov_subplans")
    op.drop_table("gov_rounds")
    with op.batch_alter_table("gov_orgs", schema=None) as batch_op:
        batch_op.drop_index("ix_gov_orgs_current")

    op.drop_table("gov_orgs")
    with op.batch_alter_table("gov_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gov_notifications_user_id"))
        batch_op.drop_index(batch_op.f("ix_gov_notifications_org_code"))
        batch_op.drop_index(batch_op.f("ix_gov_notifications_city"))

    op.drop_table("gov_notifications")
    with op.batch_alter_table("gov_measures", schema=None) as batch_op:
        batch_op.drop_index("ix_gov_measures_current")

    op.drop_table("gov_measures")
    op.drop_table("gov_templates")
    op.drop_table("gov_calendar_days")
    op.drop_table("gov_blobs")
