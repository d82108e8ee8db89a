"""The Notary-compatible trust server: `app` (routes; the hub calls `setup_trust_routes`),
`handlers`, `service`, `validation` (pure update checks), `signing` (server-made snapshot and
timestamp), `keyring` (server-held keys sealed at rest), `store` (MetaStore: memory, SQL),
`readcache`, `gate` (signed-tag lookups for the verification gate) and `admin`.
"""
