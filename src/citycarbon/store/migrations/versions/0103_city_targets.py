"""Explicit cities and city-scoped users (issue 13 items 2 and 3).

* ``city_profiles``: one row per city created by ``citycarbon city init`` (its plan is a ``plans`` row): the
  accounting profile mapping and who created it (``store/city_models.py``).
* ``users.city``: the city a user is scoped to (NULL: every city of the deployment).

Target values set in the platform and district allocations are ledger datasets (``target_values``,
``target_allocations`` in ``data/tables.yaml``) and need no table.

Revision ID: 0103_city_targets
Revises: 0102_login_throttle
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0103_city_targets"
down_revision = "0102_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "city_profiles",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("accounting", sa.JSON(), nullable=True),
        sa.Column("accounting_source", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["code"], ["plans.code"], name=op.f("fk_city_profiles_code_plans"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_city_profiles")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("city", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("city")
    op.drop_table("city_profiles")
