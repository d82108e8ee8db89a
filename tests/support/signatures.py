"""Signatures made the way cosign, the Sigstore clients and Notation publish them.

The cosign and Notation CLIs are not installable here, so tests build their artifacts to the
published formats: cosign's simple-signing payload and `.sig` manifest (cosign SIGNATURE_SPEC),
Sigstore bundles v0.3 with a message signature or a DSSE in-toto statement (cosign
BUNDLE_SPEC, Sigstore protobuf-specs), Notation JWS envelopes with an X.509 chain (Notary
Project signature-envelope-jws specification). Each maker returns bytes exactly as pushed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
NOTATION_TYPE = "application/vnd.cncf.notary.signature"
EMPTY_CONFIG = {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "size": 2,
}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


# ---- keys -------------------------------------------------------------------------------


def new_key(kind: str = "ecdsa") -> Any:
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(kind)


def public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def cosign_sign(key: Any, message: bytes) -> bytes:
    """A signature as cosign makes it for each key type (DER ECDSA, pure Ed25519, PKCS#1 v1.5)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


# ---- cosign tag scheme ------------------------------------------------------------------


def simple_signing_payload(
    image_digest: str, reference: str, optional: dict[str, str] | None = None
) -> bytes:
    return json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": reference},
                "image": {"docker-manifest-digest": image_digest},
                "type": "cosign container image signature",
            },
            "optional": optional,
        }
    ).encode()


@dataclass
class Artifact:
    """A manifest and the blobs it needs, ready to push."""

    manifest: bytes
    blobs: dict[str, bytes]
    media_type: str = OCI_MANIFEST

    @property
    def digest(self) -> str:
        return digest_of(self.manifest)


def cosign_sig_manifest(layers: list[tuple[bytes, str]]) -> Artifact:
    """A `.sig` manifest of (payload, base64 signature) layers."""
    config = b"{}"
    blobs = {digest_of(config): config}
    descriptors = []
    for payload, signature in layers:
        blobs[digest_of(payload)] = payload
        descriptors.append(
            {
                "mediaType": SIMPLE_SIGNING,
                "size": len(payload),
                "digest": digest_of(payload),
                "annotations": {"dev.cosignproject.cosign/signature": signature},
            }
        )
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": len(config),
            "digest": digest_of(config),
        },
        "layers": descriptors,
    }
    return Artifact(json.dumps(manifest).encode(), blobs)


def cosign_signature(
    key: Any, image_digest: str, reference: str = "hub.example/acme/app", **optional: str
) -> Artifact:
    payload = simple_signing_payload(image_digest, reference, optional or None)
    return cosign_sig_manifest([(payload, b64(cosign_sign(key, payload)))])


# ---- Sigstore bundles -------------------------------------------------------------------


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def dsse_bundle(key: Any, subject_digest: str, predicate_type: str | None = None) -> bytes:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "hub.example/acme/app", "digest": {"sha256": subject_digest[7:]}}],
        "predicateType": predicate_type or "https://sigstore.dev/cosign/sign/v1",
        "predicate": {},
    }
    payload = json.dumps(statement).encode()
    payload_type = "application/vnd.in-toto+json"
    signature = cosign_sign(key, pae(payload_type, payload))
    return json.dumps(
        {
            "mediaType": BUNDLE_TYPE,
            "verificationMaterial": {"publicKey": {"hint": "acme"}, "tlogEntries": []},
            "dsseEnvelope": {
                "payload": b64(payload),
                "payloadType": payload_type,
                "signatures": [{"sig": b64(signature), "keyid": ""}],
            },
        }
    ).encode()


def message_bundle(key: Any, message: bytes) -> bytes:
    return json.dumps(
        {
            "mediaType": BUNDLE_TYPE,
            "verificationMaterial": {"publicKey": {"hint": "acme"}, "tlogEntries": []},
            "messageSignature": {
                "messageDigest": {
                    "algorithm": "SHA2_256",
                    "digest": b64(hashlib.sha256(message).digest()),
                },
                "signature": b64(cosign_sign(key, message)),
            },
        }
    ).encode()


def referrer(
    artifact_type: str,
    layer_media_type: str,
    blob: bytes,
    subject_digest: str,
    subject_size: int,
    subject_media_type: str = OCI_MANIFEST,
) -> Artifact:
    """An OCI 1.1 artifact manifest with one layer and a subject (cosign/Notation layout)."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": EMPTY_CONFIG,
        "layers": [{"mediaType": layer_media_type, "digest": digest_of(blob), "size": len(blob)}],
        "subject": {
            "mediaType": subject_media_type,
            "digest": subject_digest,
            "size": subject_size,
        },
    }
    return Artifact(
        json.dumps(manifest).encode(),
        {
            digest_of(blob): blob,
            EMPTY_CONFIG["digest"]: b"{}",
        },
    )


def bundle_referrer(bundle: bytes, subject_digest: str, subject_size: int) -> Artifact:
    return referrer(BUNDLE_TYPE, BUNDLE_TYPE, bundle, subject_digest, subject_size)


# ---- X.509 and Notation -----------------------------------------------------------------

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def _name(cn: str, org: str = "acme") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass
class Pki:
    """A root CA and the leaves it issues."""

    root_key: Any
    root: x509.Certificate

    @classmethod
    def create(
        cls,
        org: str = "acme",
        not_before: dt.datetime = NOW - dt.timedelta(days=30),
        days: int = 3650,
    ) -> Pki:
        key = ec.generate_private_key(ec.SECP384R1())
        name = _name(f"{org} root", org)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .sign(key, hashes.SHA384())
        )
        return cls(key, cert)

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def leaf(
        self,
        key: Any,
        cn: str = "acme signer",
        org: str = "acme",
        not_before: dt.datetime = NOW - dt.timedelta(days=1),
        days: int = 365,
        code_signing: bool = True,
        ca: bool = False,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn, org))
            .issuer_name(self.root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=ca), critical=True)
        )
        eku = ExtendedKeyUsageOID.CODE_SIGNING if code_signing else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        return builder.sign(self.root_key, hashes.SHA384())


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def jws_sign(key: Any, alg: str, signing_input: bytes) -> bytes:
    """JWS signatures (RFC 7518): RSASSA-PSS with salt = hash length, ECDSA raw r || s."""
    algorithm = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    if alg.startswith("PS"):
        return key.sign(
            signing_input, padding.PSS(padding.MGF1(algorithm), algorithm.digest_size), algorithm
        )
    der = key.sign(signing_input, ec.ECDSA(algorithm))
    r, s = decode_dss_signature(der)
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def notation_alg(key: Any) -> str:
    """The algorithm Notation signs with for `key`: its size picks the SHA-2 variant."""
    if isinstance(key, rsa.RSAPrivateKey):
        return {2048: "PS256", 3072: "PS384", 4096: "PS512"}[key.key_size]
    return {256: "ES256", 384: "ES384", 521: "ES512"}[key.curve.key_size]


def notation_jws(
    key: Any,
    chain: list[x509.Certificate],
    target: dict[str, Any],
    *,
    alg: str | None = None,
    signing_time: dt.datetime = NOW - dt.timedelta(hours=1),
    expiry: dt.datetime | None = None,
    protected_extra: dict[str, Any] | None = None,
    crit: list[str] | None = None,
) -> bytes:
    """A flattened JWS JSON envelope as Notation writes it (notary.x509 scheme)."""
    alg = alg or notation_alg(key)
    protected: dict[str, Any] = {
        "alg": alg,
        "cty": "application/vnd.cncf.notary.payload.v1+json",
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": signing_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "crit": crit if crit is not None else ["io.cncf.notary.signingScheme"],
    }
    if expiry is not None:
        protected["io.cncf.notary.expiry"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
        if crit is None:
            protected["crit"].append("io.cncf.notary.expiry")
    protected.update(protected_extra or {})
    protected_b64 = b64url(json.dumps(protected).encode())
    payload_b64 = b64url(json.dumps({"targetArtifact": target}).encode())
    signature = jws_sign(key, alg, f"{protected_b64}.{payload_b64}".encode())
    return json.dumps(
        {
            "payload": payload_b64,
            "protected": protected_b64,
            "header": {
                "x5c": [b64(c.public_bytes(serialization.Encoding.DER)) for c in chain],
                "io.cncf.notary.signingAgent": "berth-tests/1.0",
            },
            "signature": b64url(signature),
        }
    ).encode()


def notation_referrer(envelope: bytes, subject_digest: str, subject_size: int) -> Artifact:
    return referrer(NOTATION_TYPE, "application/jose+json", envelope, subject_digest, subject_size)


def trust_policy(
    level: str = "strict",
    identities: list[str] | None = None,
    scopes: list[str] | None = None,
    stores: list[str] | None = None,
    override: dict[str, str] | None = None,
) -> dict[str, Any]:
    verification: dict[str, Any] = {"level": level}
    if override:
        verification["override"] = override
    statement: dict[str, Any] = {
        "name": "acme",
        "registryScopes": scopes or ["*"],
        "signatureVerification": verification,
    }
    if level != "skip":
        statement["trustStores"] = stores or ["ca:acme"]
        statement["trustedIdentities"] = identities or ["x509.subject: C=US, ST=WA, O=acme"]
    return {"version": "1.0", "trustPolicies": [statement]}


# ---- keyless Sigstore (a Fulcio-like CA and a Rekor-like log) ---------------------------

OIDC_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


def _utf8_der(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 128
    return bytes([0x0C, len(raw)]) + raw


def _tree_hash(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _tree_hash(hashes[:k]) + _tree_hash(hashes[k:])).digest()


def _audit_path(index: int, hashes: list[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n]): siblings from the leaf up."""
    if len(hashes) == 1:
        return []
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if index < k:
        return [*_audit_path(index, hashes[:k]), _tree_hash(hashes[k:])]
    return [*_audit_path(index - k, hashes[k:]), _tree_hash(hashes[:k])]


@dataclass
class Sigstore:
    """A Fulcio-like CA (root and intermediate) and a Rekor-like log key."""

    fulcio: Pki
    intermediate_key: Any
    intermediate: x509.Certificate
    log_key: Any

    @classmethod
    def create(cls) -> Sigstore:
        fulcio = Pki.create("sigstore")
        key = ec.generate_private_key(ec.SECP384R1())
        intermediate = (
            x509.CertificateBuilder()
            .subject_name(_name("sigstore-intermediate", "sigstore"))
            .issuer_name(fulcio.root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=30))
            .not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .sign(fulcio.root_key, hashes.SHA384())
        )
        return cls(fulcio, key, intermediate, ec.generate_private_key(ec.SECP256R1()))

    def trust_pems(self) -> list[str]:
        return [
            c.public_bytes(serialization.Encoding.PEM).decode()
            for c in (self.fulcio.root, self.intermediate)
        ]

    def log_pem(self) -> str:
        return public_pem(self.log_key).decode()

    def log_id(self) -> bytes:
        der = self.log_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).digest()

    def issue(
        self, email: str, issuer: str, not_before: dt.datetime
    ) -> tuple[Any, x509.Certificate]:
        """A ten-minute code-signing certificate for an OIDC identity."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + dt.timedelta(minutes=10))
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V2, _utf8_der(issuer)), False)
            .sign(self.intermediate_key, hashes.SHA384())
        )
        return key, cert

    def entry(self, body: dict[str, Any], integrated: dt.datetime, *, others: int = 4) -> dict:
        """A log entry with a signed entry timestamp and an inclusion proof in a small tree."""
        body_b64 = b64(json.dumps(body).encode())
        raw_body = base64.b64decode(body_b64)
        index = others // 2
        leaves = [hashlib.sha256(b"\x00" + f"other {i}".encode()).digest() for i in range(others)]
        leaves.insert(index, hashlib.sha256(b"\x00" + raw_body).digest())
        root = _tree_hash(leaves)
        log_id = self.log_id()
        promise = canonical(
            {
                "body": body_b64,
                "integratedTime": int(integrated.timestamp()),
                "logID": log_id.hex(),
                "logIndex": index,
            }
        )
        note = f"rekor.test - 1\n{len(leaves)}\n{b64(root)}\n"
        note_sig = self.log_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        return {
            "logIndex": str(index),
            "logId": {"keyId": b64(log_id)},
            "kindVersion": {"kind": body["kind"], "version": "0.0.1"},
            "integratedTime": str(int(integrated.timestamp())),
            "inclusionPromise": {
                "signedEntryTimestamp": b64(self.log_key.sign(promise, ec.ECDSA(hashes.SHA256())))
            },
            "inclusionProof": {
                "logIndex": str(index),
                "rootHash": b64(root),
                "treeSize": str(len(leaves)),
                "hashes": [b64(h) for h in _audit_path(index, leaves)],
                "checkpoint": {
                    "envelope": note + f"\n\u2014 rekor.test {b64(log_id[:4] + note_sig)}\n"
                },
            },
            "canonicalizedBody": body_b64,
        }


def keyless_bundle(
    sigstore: Sigstore,
    image_digest: str,
    *,
    email: str = "dev@acme.test",
    issuer: str = "https://issuer.acme.test",
    signed_at: dt.datetime = NOW - dt.timedelta(hours=2),
    logged_at: dt.datetime | None = None,
    message: bytes | None = None,
) -> bytes:
    """A keyless bundle: DSSE statement about `image_digest`, or (with `message`) a message
    signature over those bytes, with its certificate and log entry."""
    key, cert = sigstore.issue(email, issuer, signed_at - dt.timedelta(minutes=1))
    cert_pem_b64 = b64(cert.public_bytes(serialization.Encoding.PEM))
    material: dict[str, Any] = {
        "certificate": {"rawBytes": b64(cert.public_bytes(serialization.Encoding.DER))}
    }
    if message is None:
        bundle = json.loads(dsse_bundle(key, image_digest))
        envelope = bundle["dsseEnvelope"]
        payload = base64.b64decode(envelope["payload"])
        body = {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "payloadHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(payload).hexdigest(),
                },
                "signatures": [
                    {"signature": envelope["signatures"][0]["sig"], "verifier": cert_pem_b64}
                ],
            },
        }
    else:
        bundle = json.loads(message_bundle(key, message))
        signature = bundle["messageSignature"]["signature"]
        body = {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {
                    "hash": {"algorithm": "sha256", "value": hashlib.sha256(message).hexdigest()}
                },
                "signature": {"content": signature, "publicKey": {"content": cert_pem_b64}},
            },
        }
    material["tlogEntries"] = [sigstore.entry(body, logged_at or signed_at)]
    bundle["verificationMaterial"] = material
    return json.dumps(bundle).encode()


# ---- Notation COSE ----------------------------------------------------------------------

COSE_ALGS = {"PS256": -37, "PS384": -38, "PS512": -39, "ES256": -7, "ES384": -35, "ES512": -36}


def notation_cose(
    key: Any,
    chain: list[x509.Certificate],
    target: dict[str, Any],
    *,
    alg: str | None = None,
    signing_time: dt.datetime = NOW - dt.timedelta(hours=1),
    expiry: dt.datetime | None = None,
    protected_extra: dict[Any, Any] | None = None,
    crit: list[Any] | None = None,
) -> bytes:
    """A COSE_Sign1_Tagged envelope as Notation writes it (notary.x509 scheme)."""
    alg = alg or notation_alg(key)
    protected: dict[Any, Any] = {
        1: COSE_ALGS.get(alg, alg),
        2: crit if crit is not None else ["io.cncf.notary.signingScheme"],
        3: "application/vnd.cncf.notary.payload.v1+json",
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": cbor2.CBORTag(1, int(signing_time.timestamp())),
    }
    if expiry is not None:
        protected["io.cncf.notary.expiry"] = cbor2.CBORTag(1, int(expiry.timestamp()))
        if crit is None:
            protected[2].append("io.cncf.notary.expiry")
    protected.update(protected_extra or {})
    protected_bytes = cbor2.dumps(protected)
    payload = json.dumps({"targetArtifact": target}).encode()
    to_be_signed = cbor2.dumps(["Signature1", protected_bytes, b"", payload])
    signature = jws_sign(key, alg, to_be_signed)
    unprotected = {
        33: [c.public_bytes(serialization.Encoding.DER) for c in chain],
        "io.cncf.notary.signingAgent": "berth-tests/1.0",
    }
    return cbor2.dumps(cbor2.CBORTag(18, [protected_bytes, unprotected, payload, signature]))


def notation_cose_referrer(envelope: bytes, subject_digest: str, subject_size: int) -> Artifact:
    return referrer(NOTATION_TYPE, "application/cose", envelope, subject_digest, subject_size)


def cosign_keyless_signature(
    sigstore: Sigstore,
    image_digest: str,
    *,
    email: str = "dev@acme.test",
    issuer: str = "https://issuer.acme.test",
    signed_at: dt.datetime = NOW - dt.timedelta(hours=2),
    logged_at: dt.datetime | None = None,
) -> Artifact:
    """A keyless `.sig` manifest as cosign v1/v2 writes it: the layer annotations carry the
    Fulcio certificate and the Rekor entry with its signed entry timestamp."""
    key, cert = sigstore.issue(email, issuer, signed_at - dt.timedelta(minutes=1))
    payload = simple_signing_payload(image_digest, "hub.example/acme/app")
    signature = b64(cosign_sign(key, payload))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    body = {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}},
            "signature": {"content": signature, "publicKey": {"content": b64(cert_pem)}},
        },
    }
    entry = sigstore.entry(body, logged_at or signed_at)
    rekor_bundle = {
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": int(entry["integratedTime"]),
            "logIndex": int(entry["logIndex"]),
            "logID": sigstore.log_id().hex(),
        },
    }
    artifact = cosign_sig_manifest([(payload, signature)])
    manifest = json.loads(artifact.manifest)
    manifest["layers"][0]["annotations"].update(
        {
            "dev.sigstore.cosign/certificate": cert_pem.decode(),
            "dev.sigstore.cosign/chain": "".join(sigstore.trust_pems()[::-1]),
            "dev.sigstore.cosign/bundle": json.dumps(rekor_bundle),
        }
    )
    return Artifact(json.dumps(manifest).encode(), artifact.blobs)
