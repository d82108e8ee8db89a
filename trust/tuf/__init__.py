"""Pure Notary-format TUF: canonical JSON, keys and signatures, the metadata model, errors.

Modules: `canonicaljson` (signing bytes), `keys` (public/private keys, key IDs, root
certificates), `parts` and `model` (Root, Targets with delegations, Snapshot, Timestamp and
the signed envelope), `roots` (root verification with certificate pinning), `errors` (the
`TrustError` family). No I/O anywhere in this package; "now" is always a parameter.
"""
