"""Storage: SQLAlchemy models, the SQLite engine and Alembic migrations. Qt-free."""
