"""Fakes that implement the project's real Protocols, for tests."""
