"""Verifiers for signature formats stored in the registry itself: cosign and Notation.

Each verifier is pure: the bytes of the signature artifacts (fetched by the caller from
wherever they live), the trusted material (keys, trust stores, trust policy) and "now" go in; a
`Verdict` or a `SignatureVerificationError` comes out. Nothing here reads a registry, a file or
the clock.

* `trust.sigs.cosign`: cosign's tag scheme (`sha256-<hex>.sig`, simple-signing payloads);
* `trust.sigs.bundle`: Sigstore bundles attached as OCI 1.1 referrers (`trust.sigs.dsse` for
  DSSE envelopes and in-toto statements);
* `trust.sigs.keyless`: Fulcio certificates and Rekor entries of keyless signatures, offline;
* `trust.sigs.notation`: Notation signatures under a Notation trust policy
  (`trust.sigs.notation_policy`) and X.509 trust stores (`trust.sigs.x509store`), in JWS
  (`trust.sigs.notation_envelope`) and COSE (`trust.sigs.notation_cose`) envelopes;
* `trust.sigs.policy`: which formats and which signers count for a repository.
"""
