"""Login throttle shared by every worker process; room for encrypted TOTP secrets (issue 12).

* ``login_throttle``: per-client login rate-limit buckets and lockouts of unknown usernames
  (``store/login_throttle.py``), so ``serve --workers 4`` does not multiply the budget.
* ``users.totp_secret`` widened from 64 to 255 characters: it now holds a Fernet token
  (``store/totp_crypto.py``). Secrets stored in the clear by an older release stay readable and are encrypted
  at the user's next login or by ``citycarbon users rotate-totp-key`` (which needs the key, so it is not done
  here: a migration must not create keys).

Revision ID: 0102_login_throttle
Revises: 0004_monitoring_registry
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0102_login_throttle"
down_revision = "0004_monitoring_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttle_updated_at"), ["updated_at"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("totp_secret", existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("totp_secret", existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=True)
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_updated_at"))
    op.drop_table("login_throttle")
