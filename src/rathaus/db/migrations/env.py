"""Alembic environment: Rathaus passes an open connection in ``config.attributes``."""

from alembic import context

from rathaus.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
