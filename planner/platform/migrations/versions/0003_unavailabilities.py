"""Unavailabilities: days off, broken-down vehicles and withdrawn rooms, waiting for ``maillage replan``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from planner.platform.models import UTCDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "unavailabilities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("declared_by", sa.String(200), nullable=False),
        sa.Column("declared_at", UTCDateTime(), nullable=False),
        sa.Column("replanned_in", sa.Integer(), nullable=True),
    )
    op.create_index("unavailabilities_person", "unavailabilities", ["person_id"])


def downgrade() -> None:
    op.drop_index("unavailabilities_person", "unavailabilities")
    op.drop_table("unavailabilities")
