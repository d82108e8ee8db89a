"""The Notary-compatible trust server: storage, validation, server-held keys, HTTP routes.

The hub mounts it with `trust.server.app.setup_trust_routes`.
"""
