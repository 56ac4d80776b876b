"""Alembic's entry point: migrate the engine :func:`planner.platform.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from planner.platform.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
