"""Alembic migrations for every table Berth keeps (the hub's and the trust service's)."""
