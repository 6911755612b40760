"""Alembic environment: migrations run on the connection ``auditor.store.connect`` passes in."""

from alembic import context

from auditor.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
