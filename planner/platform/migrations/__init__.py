"""Alembic migrations of the platform's schema, run by :func:`planner.platform.db.migrate`."""
