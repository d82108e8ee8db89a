"""The pure OCI package: digests, references and manifest parsing."""

from __future__ import annotations

import pytest

from registry.oci.digest import Digest, DigestError
from registry.oci.manifest import ManifestError, parse_manifest
from registry.oci.reference import Reference, ReferenceError, is_valid_name, is_valid_tag


def test_digest_parse_and_verify():
    digest = Digest.of(b"abc")
    assert Digest.parse(str(digest)) == digest
    assert digest.verify(b"abc") and not digest.verify(b"abd")
    for bad in ("sha256:short", "md5:" + "a" * 32, "sha256:" + "A" * 64, "nocolon"):
        with pytest.raises(DigestError):
            Digest.parse(bad)


@pytest.mark.parametrize("name", ["a", "a/b", "a-b/c__d", "a.b/c-d-e", "x" * 255])
def test_valid_names(name):
    assert is_valid_name(name)


@pytest.mark.parametrize(
    "name", ["", "A", "a//b", "a/", "-a", "a_", "x" * 256, "a/../b", "a/b\n", "a\n/b"]
)
def test_invalid_names(name):
    assert not is_valid_name(name)


def test_tags():
    assert is_valid_tag("v1.0_rc-1") and is_valid_tag("_x")
    assert not is_valid_tag("-x") and not is_valid_tag("x" * 129) and not is_valid_tag("a/b")
    assert not is_valid_tag("v1\n")


def test_a_trailing_newline_is_no_part_of_any_pattern():
    with pytest.raises(DigestError):
        Digest.parse(str(Digest.of(b"abc")) + "\n")
    with pytest.raises(ReferenceError):
        Reference.parse("team/app:v1\n")
    with pytest.raises(ReferenceError):
        Reference.parse("hub.example\n/team/app")


def test_reference_parse():
    ref = Reference.parse("hub.example:5000/team/app:1")
    assert (ref.host, ref.name, ref.tag) == ("hub.example:5000", "team/app", "1")
    assert Reference.parse("team/app").host is None
    assert Reference.parse("localhost/app").host == "localhost"
    digest = "sha256:" + "a" * 64
    assert str(Reference.parse(f"app@{digest}").digest) == digest
    with pytest.raises(ReferenceError):
        Reference.parse("Bad/Name")


def test_manifest_types_are_enforced():
    with pytest.raises(ManifestError):
        parse_manifest(b'{"schemaVersion":2,"mediaType":"text/plain"}', None)
    with pytest.raises(ManifestError):
        parse_manifest(
            b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}',
            "application/vnd.oci.image.manifest.v1+json",
        )
