"""The platform: published plans kept in a database, each person's week served through a personal link.

``db`` opens the database (embedded SQLite by default, PostgreSQL + PostGIS through
``MAILLAGE_DATABASE_URL``) and migrates it; ``models`` is the schema; ``tokens`` the personal links;
``publish`` turns a run folder into the next published version of a territory's plan; ``feed`` builds a
person's week and calendar feed; ``service`` is the small HTTP service of ``maillage serve``.
"""
