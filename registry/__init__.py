"""Berth's hub: an OCI distribution-spec 1.1 registry with Docker-Hub features.

`registry.oci` is pure (no I/O) and is the only part the runtime client may import.
"""
