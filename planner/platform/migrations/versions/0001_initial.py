"""The first schema: territories, scenarios, runs, plans, people, access tokens, events, audit log.

On PostgreSQL the PostGIS extension is created when missing (the server must have it installed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from planner.platform.models import Point, UTCDateTime

revision = "0001"
down_revision = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "territories", _id(), sa.Column("name", sa.String(200), nullable=False, unique=True), _at("created_at")
    )
    op.create_table(
        "scenarios",
        _id(),
        sa.Column("territory_id", sa.Integer(), sa.ForeignKey("territories.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        _at("created_at"),
    )
    op.create_table(
        "runs",
        _id(),
        sa.Column("territory_id", sa.Integer(), sa.ForeignKey("territories.id"), nullable=False),
        sa.Column("scenario_id", sa.Integer(), sa.ForeignKey("scenarios.id"), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("record_sha256", sa.String(64), nullable=False),
        sa.Column("command", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        _at("started_at", True),
        _at("finished_at", True),
        _at("imported_at"),
    )
    op.create_table(
        "plans",
        _id(),
        sa.Column("territory_id", sa.Integer(), sa.ForeignKey("territories.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        _at("published_at"),
        sa.UniqueConstraint("territory_id", "version"),
    )
    op.create_table(
        "people",
        _id(),
        sa.Column("territory_id", sa.Integer(), sa.ForeignKey("territories.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        _at("created_at"),
        sa.UniqueConstraint("territory_id", "kind", "ref"),
        sa.CheckConstraint("kind IN ('planner', 'provider', 'crew', 'premises_owner')", name="people_kind"),
    )
    op.create_table(
        "access_tokens",
        _id(),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False, index=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        _at("created_at"),
        _at("expires_at"),
        _at("revoked_at", True),
    )
    op.create_table(
        "events",
        _id(),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("uid", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("end", sa.String(5), nullable=False),
        sa.Column("every_weeks", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("geom", Point(), nullable=True),
        sa.UniqueConstraint("plan_id", "uid"),
        sa.CheckConstraint("status IN ('CONFIRMED', 'CANCELLED')", name="events_status"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX events_geom ON events USING GIST (geom)")
    op.create_table(
        "event_people",
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), primary_key=True, index=True),
    )
    op.create_table(
        "audit_log",
        _id(),
        _at("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "event_people", "events", "access_tokens", "people", "plans", "runs", "scenarios"):
        op.drop_table(table)
    op.drop_table("territories")
