"""Alembic environment: always run online, on the connection `open_store` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from opendcc.store.tables import metadata

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
