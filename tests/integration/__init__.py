"""Tests that drive a real hub process with real clients (skopeo, docker, raw HTTP)."""
