"""Fixtures of the integration tests beyond the suite-wide ones."""

from tests.support.replicas import backend  # noqa: F401 - a fixture: PostgreSQL + S3 for replicas
