"""Blob and upload storage: a small driver contract and the pure path layout over it."""
