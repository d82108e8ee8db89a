"""A client for any OCI distribution-spec registry: auth, resolve, fetch, push, search."""
