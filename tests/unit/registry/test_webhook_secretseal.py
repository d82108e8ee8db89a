"""Webhook secrets sealed for the database: open only with the same secret and namespace."""

from __future__ import annotations

import pytest

from registry.webhooks.secretseal import WebhookSecretError, WebhookSecretSealer, new_secret

SECRET = b"key-encryption-secret-0123"


def test_a_sealed_secret_opens_for_its_namespace_only():
    sealer = WebhookSecretSealer(SECRET)
    secret = new_secret()
    stored = sealer.seal("acme", secret)
    assert secret not in stored
    assert sealer.open("acme", stored) == secret
    with pytest.raises(WebhookSecretError):
        sealer.open("other", stored)


def test_another_key_encryption_secret_or_damage_does_not_open():
    stored = WebhookSecretSealer(SECRET).seal("acme", new_secret())
    with pytest.raises(WebhookSecretError, match="does not open"):
        WebhookSecretSealer(b"another-secret-0123456").open("acme", stored)
    with pytest.raises(WebhookSecretError):
        WebhookSecretSealer(SECRET).open("acme", stored[:-6] + "AAAA==")
    with pytest.raises(WebhookSecretError, match="not sealed"):
        WebhookSecretSealer(SECRET).open("acme", new_secret())


def test_each_seal_differs():
    sealer, secret = WebhookSecretSealer(SECRET), new_secret()
    assert sealer.seal("acme", secret) != sealer.seal("acme", secret)
