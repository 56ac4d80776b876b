"""Occurrences: one date of a series moved or cancelled on its own (a day off re-planned for that date only)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "occurrences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("uid", sa.String(300), nullable=False),
        sa.Column("occurrence", sa.Date(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("end", sa.String(5), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.UniqueConstraint("plan_id", "uid", "occurrence"),
        sa.CheckConstraint("status IN ('CONFIRMED', 'CANCELLED')", name="occurrences_status"),
    )
    op.create_index("occurrences_plan", "occurrences", ["plan_id"])


def downgrade() -> None:
    op.drop_index("occurrences_plan", "occurrences")
    op.drop_table("occurrences")
