"""Signed webhooks: events written to a database outbox with the change, delivered by workers."""
