"""Appointments: residents' bookings in sessions' slots, each service's slot length and capacity, the
service's own settings (the key signing its forms), and the service of each session event."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from planner.platform.models import UTCDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("service", sa.String(200), nullable=True))
    op.create_table(
        "service_slots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("territory_id", sa.Integer(), sa.ForeignKey("territories.id"), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.UniqueConstraint("territory_id", "service"),
        sa.CheckConstraint("slot_minutes BETWEEN 5 AND 480 AND capacity BETWEEN 1 AND 100", name="service_slots_range"),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("territory_id", sa.Integer(), sa.ForeignKey("territories.id"), nullable=False),
        sa.Column("event_uid", sa.String(300), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("end", sa.String(5), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False, unique=True),
        sa.Column("cancel_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("phone", sa.String(30), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("notice", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("territory_id", "event_uid", "day", "start", "seat"),
        sa.CheckConstraint("seat IS NULL OR seat >= 1", name="appointments_seat"),
        sa.CheckConstraint("status IN ('BOOKED', 'CANCELLED')", name="appointments_status"),
    )
    op.create_index("appointments_session", "appointments", ["territory_id", "event_uid", "day"])
    op.create_index("appointments_day", "appointments", ["day"])
    op.create_table(
        "settings", sa.Column("name", sa.String(50), primary_key=True), sa.Column("value", sa.Text(), nullable=False)
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_index("appointments_day", "appointments")
    op.drop_index("appointments_session", "appointments")
    op.drop_table("appointments")
    op.drop_table("service_slots")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("service")
