"""Alembic migrations for the DCC Data Service tables, run programmatically by `open_store`."""
