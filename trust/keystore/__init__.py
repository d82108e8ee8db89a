"""Private keys on disk in Docker's trust-directory layout (see `trust.keystore.store`)."""

from trust.keystore.store import KeyInfo, KeyStore, PassphraseRetriever

__all__ = ["KeyInfo", "KeyStore", "PassphraseRetriever"]
