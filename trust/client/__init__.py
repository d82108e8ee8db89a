"""The verifying client: `trusted_set` (ordered, pure verification), `updater` (refresh from a
`RemoteStore` into the local cache, tag resolution with Docker's role priority), `cache` (the
Docker/notary metadata cache layout) and `inspect` (what `docker trust inspect` reports).
"""
