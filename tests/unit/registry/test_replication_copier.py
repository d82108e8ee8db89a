"""The replication copier between two in-memory registries (fakes of the endpoint contract):
what is copied, in which order, what is skipped, the backoff between retries, and the
referrers tag schema's index kept on a destination without the referrers API."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

from registry.errors import UnavailableError
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.oci.manifest import Descriptor, parse_manifest
from registry.oci.referrers_tag import fallback_tag
from registry.replication.copier import Copier, RetryPolicy
from registry.replication.endpoint import BlobStream, Fetched


class MemoryRegistry:
    """An endpoint holding everything in dicts; `outages` fail that many calls first."""

    mounts_anywhere = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.blobs: dict[tuple[str, Digest], bytes] = {}
        self.manifests: dict[tuple[str, str], Fetched] = {}
        self.log: list[str] = []
        self.outages = 0
        self.referrers_api = True  # False: as Distribution 2.8, the referrers API answers 404

    def _call(self, what: str) -> None:
        if self.outages:
            self.outages -= 1
            raise UnavailableError(f"{self.name} is down")
        self.log.append(what)

    async def repositories(self, pattern: str) -> list[str]:
        return sorted({repo for repo, _ in self.manifests})

    async def tags(self, repository: str) -> list[str]:
        self._call(f"tags {repository}")
        return [ref for repo, ref in self.manifests if repo == repository and ":" not in ref]

    async def manifest(self, repository: str, reference: str) -> Fetched | None:
        self._call(f"get {reference}")
        return self.manifests.get((repository, reference))

    async def manifest_digest(self, repository: str, reference: str) -> Digest | None:
        self._call(f"head {reference}")
        got = self.manifests.get((repository, reference))
        return None if got is None else Digest.of(got.payload)

    async def has_blob(self, repository: str, digest: Digest) -> bool:
        self._call(f"head blob {digest.hex[:6]}")
        return (repository, digest) in self.blobs

    async def mount_blob(self, repository: str, digest: Digest, source: str) -> bool:
        self._call(f"mount {digest.hex[:6]}")
        self.blobs[(repository, digest)] = self.blobs[(source, digest)]
        return True

    @contextlib.asynccontextmanager
    async def read_blob(self, repository: str, digest: Digest) -> AsyncIterator[BlobStream]:
        data = self.blobs[(repository, digest)]

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        yield BlobStream(len(data), chunks())

    async def write_blob(self, repository: str, digest: Digest, blob: BlobStream) -> None:
        self._call(f"put blob {digest.hex[:6]}")
        self.blobs[(repository, digest)] = b"".join([chunk async for chunk in blob.chunks])

    async def put_manifest(
        self, repository: str, reference: str, payload: bytes, media_type: str | None
    ) -> None:
        self._call(f"put {reference}")
        fetched = Fetched(payload, media_type)
        self.manifests[(repository, reference)] = fetched
        self.manifests[(repository, str(Digest.of(payload)))] = fetched

    async def referrers(self, repository: str, digest: Digest) -> list[Descriptor] | None:
        self._call(f"referrers {digest.hex[:6]}")
        if not self.referrers_api:
            return None
        found = {}
        for (repo, reference), fetched in self.manifests.items():
            parsed = parse_manifest(fetched.payload, fetched.media_type)
            subject = parsed.subject
            if repo == repository and subject is not None and subject.digest == digest:
                found[reference] = Descriptor(
                    parsed.media_type, Digest.of(fetched.payload), len(fetched.payload),
                    parsed.effective_artifact_type(),
                )  # fmt: skip
        return [found[ref] for ref in sorted(found) if ref.startswith("sha256:")]


def add_image(registry: MemoryRegistry, repository: str, tag: str, layer: bytes) -> Digest:
    config = b"{}"
    for blob in (config, layer):
        registry.blobs[(repository, Digest.of(blob))] = blob
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": str(Digest.of(config)), "size": 2},
        "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": str(Digest.of(layer)),
                    "size": len(layer)}],
    }).encode()  # fmt: skip
    fetched = Fetched(manifest, mt.OCI_MANIFEST)
    registry.manifests[(repository, tag)] = fetched
    registry.manifests[(repository, str(Digest.of(manifest)))] = fetched
    return Digest.of(manifest)


async def test_blobs_go_first_the_manifest_last_and_a_second_copy_skips_the_tree():
    source, destination = MemoryRegistry("source"), MemoryRegistry("destination")
    add_image(source, "team/app", "v1", b"layer")
    copier = Copier(source, destination, RetryPolicy())
    await copier.copy_repository("team/app", "mirror/app", "*")
    puts = [entry for entry in destination.log if entry.startswith("put")]
    assert puts[-1] == "put v1" and len(puts) == 3
    assert (copier.tally.copied, copier.tally.skipped, copier.tally.failed) == (3, 0, 0)

    again = Copier(source, destination, RetryPolicy())
    destination.log.clear()
    await again.copy_repository("team/app", "mirror/app", "*")
    assert destination.log == ["head v1"]  # the tag names the digest: nothing below is asked
    assert (again.tally.copied, again.tally.skipped) == (0, 1)


async def test_a_shared_blob_is_mounted_from_the_repository_it_was_copied_to():
    source, destination = MemoryRegistry("source"), MemoryRegistry("destination")
    add_image(source, "team/a", "v1", b"shared")
    add_image(source, "team/b", "v1", b"shared")
    copier = Copier(source, destination, RetryPolicy())
    await copier.copy_repository("team/a", "team/a", "*")
    await copier.copy_repository("team/b", "team/b", "*")
    assert [e for e in destination.log if e.startswith(("mount", "put blob"))] == [
        f"put blob {Digest.of(b'{}').hex[:6]}",
        f"put blob {Digest.of(b'shared').hex[:6]}",
        f"mount {Digest.of(b'{}').hex[:6]}",
        f"mount {Digest.of(b'shared').hex[:6]}",
    ]


async def test_retries_back_off_exponentially_and_a_lasting_outage_fails_the_item():
    source, destination = MemoryRegistry("source"), MemoryRegistry("destination")
    add_image(source, "team/app", "v1", b"layer")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    destination.outages = 3  # the first three calls fail, the fourth try goes through
    copier = Copier(source, destination, RetryPolicy(attempts=4, backoff=0.5), sleep)
    await copier.copy_repository("team/app", "team/app", "*")
    assert waits == [0.5, 1.0, 2.0]
    assert (copier.tally.copied, copier.tally.failed, copier.tally.retries) == (3, 0, 3)

    down = MemoryRegistry("down")
    down.outages = 100
    failing = Copier(source, down, RetryPolicy(attempts=3, backoff=1), sleep)
    waits.clear()
    await failing.copy_repository("team/app", "team/app", "*")
    assert waits == [1.0, 2.0]
    assert [(e.item, e.attempts) for e in failing.tally.errors] == [("team/app:v1", 3)]
    assert "down" in failing.tally.errors[0].error


def add_referrer(registry: MemoryRegistry, repository: str, subject: Digest, kind: str) -> Digest:
    """An artifact manifest (no blobs of its own but the empty config) whose subject is given."""
    empty = b"{}"
    registry.blobs[(repository, Digest.of(empty))] = empty
    subject_size = len(registry.manifests[(repository, str(subject))].payload)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": kind,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": str(Digest.of(empty)), "size": 2},
        "layers": [],
        "subject": {"mediaType": mt.OCI_MANIFEST, "digest": str(subject), "size": subject_size},
    }).encode()  # fmt: skip
    fetched = Fetched(manifest, mt.OCI_MANIFEST)
    registry.manifests[(repository, str(Digest.of(manifest)))] = fetched
    return Digest.of(manifest)


def listed_by_tag(registry: MemoryRegistry, repository: str, subject: Digest) -> list[str]:
    index = registry.manifests[(repository, fallback_tag(subject))]
    return [entry["digest"] for entry in json.loads(index.payload)["manifests"]]


async def test_a_destination_without_the_referrers_api_gets_the_referrers_tag_index():
    source, destination = MemoryRegistry("source"), MemoryRegistry("destination")
    destination.referrers_api = False
    image = add_image(source, "team/app", "v1", b"layer")
    sbom = add_referrer(source, "team/app", image, "application/spdx+json")
    copier = Copier(source, destination, RetryPolicy())
    await copier.copy_repository("team/app", "team/app", "*")
    assert listed_by_tag(destination, "team/app", image) == [str(sbom)]
    puts = [entry for entry in destination.log if entry.startswith("put ")]
    assert puts[-2:] == [f"put {sbom}", f"put {fallback_tag(image)}"]  # the referrer first
    index = json.loads(destination.manifests[("team/app", fallback_tag(image))].payload)
    assert index["mediaType"] == mt.OCI_INDEX
    assert index["manifests"][0]["artifactType"] == "application/spdx+json"

    # A second referrer is added to what the index lists (another client's entry kept).
    foreign = "sha256:" + "f" * 64
    kept = json.loads(destination.manifests[("team/app", fallback_tag(image))].payload)
    kept["manifests"].insert(0, {"mediaType": mt.OCI_MANIFEST, "digest": foreign, "size": 1})
    destination.manifests[("team/app", fallback_tag(image))] = Fetched(
        json.dumps(kept).encode(), mt.OCI_INDEX
    )
    signature = add_referrer(source, "team/app", image, "application/vnd.dev.cosign")
    again = Copier(source, destination, RetryPolicy())
    await again.copy_repository("team/app", "team/app", "*")
    listed = listed_by_tag(destination, "team/app", image)
    assert listed[0] == foreign and sorted(listed[1:]) == sorted([str(sbom), str(signature)])
    assert again.tally.failed == 0

    # Everything listed already: the index is not pushed again.
    destination.log.clear()
    await Copier(source, destination, RetryPolicy()).copy_repository("team/app", "team/app", "*")
    assert not [entry for entry in destination.log if entry.startswith("put ")]


async def test_a_destination_with_the_referrers_api_gets_no_referrers_tag():
    source, destination = MemoryRegistry("source"), MemoryRegistry("destination")
    image = add_image(source, "team/app", "v1", b"layer")
    add_referrer(source, "team/app", image, "application/spdx+json")
    await Copier(source, destination, RetryPolicy()).copy_repository("team/app", "team/app", "*")
    assert ("team/app", fallback_tag(image)) not in destination.manifests


async def test_a_referrers_tag_that_is_not_an_index_is_left_alone_and_reported():
    source, destination = MemoryRegistry("source"), MemoryRegistry("destination")
    destination.referrers_api = False
    image = add_image(source, "team/app", "v1", b"layer")
    add_referrer(source, "team/app", image, "application/spdx+json")
    add_image(destination, "team/app", fallback_tag(image), b"not an index")
    squatter = destination.manifests[("team/app", fallback_tag(image))]
    copier = Copier(source, destination, RetryPolicy())
    await copier.copy_repository("team/app", "team/app", "*")
    assert destination.manifests[("team/app", fallback_tag(image))] == squatter
    [error] = copier.tally.errors
    assert error.item == f"team/app:{fallback_tag(image)}" and "not an index" in error.error
