"""Local content-addressed storage of blobs (configs, manifests, layers)."""
