"""Repository-scoped logic between the HTTP handlers and storage + database."""
