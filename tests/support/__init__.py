"""Helpers shared by the whole test suite: hub processes, test images, dockerd, skopeo.

Nothing here imports the hub's code: tests talk to a hub process over HTTP, as clients do.
"""
