"""Monitoring registry: enterprises, metering points, products and the registry version (issue 6; models in
``store/registry_models.py``, reads and writes in ``store/monitoring_registry.py``).

Revision ID: 0004_monitoring_registry
Revises: 0003_monitoring_submissions
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_monitoring_registry"
down_revision = "0003_monitoring_submissions"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "monitoring_enterprises",
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("industry_code", sa.String(length=8), nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("annual_budget_tce", sa.Float(), nullable=True),
        sa.Column("budget_year", sa.Integer(), nullable=True),
        sa.Column("annual_energy_tce", sa.Float(), nullable=True),
        sa.CheckConstraint("tier IN (1, 2)", name=op.f("ck_monitoring_enterprises_tier")),
        sa.PrimaryKeyConstraint("enterprise_id", name=op.f("pk_monitoring_enterprises")),
        sa.UniqueConstraint("uscc", name=op.f("uq_monitoring_enterprises_uscc")),
    )
    with op.batch_alter_table("monitoring_enterprises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_enterprises_region"), ["region"], unique=False)

    op.create_table(
        "monitoring_products",
        sa.Column("product_id", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("product_type", sa.String(length=64), nullable=False),
        sa.Column("limit_standard", sa.Text(), nullable=False),
        sa.Column("limit_value", sa.Float(), nullable=True),
        sa.Column("limit_unit", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["monitoring_enterprises.enterprise_id"],
                                name=op.f("fk_monitoring_products_enterprise_id_monitoring_enterprises")),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_monitoring_products")),
    )
    with op.batch_alter_table("monitoring_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_products_enterprise_id"), ["enterprise_id"], unique=False)

    op.create_table(
        "monitoring_points",
        sa.Column("point_id", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("energy_type", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("multiplier", sa.Float(), nullable=False),
        sa.Column("parent_point_id", sa.String(length=200), nullable=True),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("register_max", sa.Float(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('interval', 'cumulative')", name=op.f("ck_monitoring_points_kind")),
        sa.CheckConstraint("interval_minutes IN (15, 30, 60)", name=op.f("ck_monitoring_points_interval_minutes")),
        sa.CheckConstraint("multiplier >= 1", name=op.f("ck_monitoring_points_multiplier")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["monitoring_enterprises.enterprise_id"],
                                name=op.f("fk_monitoring_points_enterprise_id_monitoring_enterprises")),
        sa.ForeignKeyConstraint(["parent_point_id"], ["monitoring_points.point_id"],
                                name=op.f("fk_monitoring_points_parent_point_id_monitoring_points")),
        sa.PrimaryKeyConstraint("point_id", name=op.f("pk_monitoring_points")),
    )
    with op.batch_alter_table("monitoring_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_points_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_monitoring_points_parent_point_id"), ["parent_point_id"], unique=False)

    op.create_table(
        "monitoring_registry_versions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("enterprises", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_registry_versions")),
    )


def downgrade() -> None:
    op.drop_table("monitoring_registry_versions")
    with op.batch_alter_table("monitoring_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_points_parent_point_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_points_enterprise_id"))
    op.drop_table("monitoring_points")
    with op.batch_alter_table("monitoring_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_products_enterprise_id"))
    op.drop_table("monitoring_products")
    with op.batch_alter_table("monitoring_enterprises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_enterprises_region"))
    op.drop_table("monitoring_enterprises")
