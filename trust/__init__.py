"""Content trust: Notary-format TUF metadata, keys, signing, verification and the trust server.

Imports neither `registry` nor `runtime_client`.
"""
