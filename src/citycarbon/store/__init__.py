"""Storage adapter: SQLAlchemy 2 models, Alembic migrations, the bitemporal ledger, users, jobs, audit log,
backup/restore. See docs/storage.md. Domain packages never import this package."""
