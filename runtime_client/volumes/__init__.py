"""Volumes: local-driver volumes under `<root>/volumes/` and the mount points containers ask for."""
