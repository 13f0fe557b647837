"""Store tests run on SQLite and PostgreSQL; each PostgreSQL test gets a fresh schema, dropped afterwards.

The fixtures (`db_url` on each backend, `store`, `fresh_pg_schema`) are the shared ones of tests/conftest.py.
"""
