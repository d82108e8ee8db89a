"""Replication between a hub process and Debian's Distribution (`docker-registry`).

Rules are made and run with `berth-hub replication` on the hub's data directory; the hub
process itself replicates pushes for on-push rules. skopeo reads what arrived (`inspect
--raw`: the same bytes, so the same digests; `copy --all`: every blob verified). A
fault-injecting proxy in front of Distribution stands for a remote that is down (503), one
that dies under each blob upload, and one behind Docker token auth (the rule's sealed password
answers its challenge).
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http import HttpResponse, http_request
from tests.support.hub import REPO_ROOT, HubProcess, repo_env
from tests.support.images import BuiltImage, BuiltIndex, OciLayout
from tests.support.ports import wait_until
from tests.support.reference_registry import (
    ReferenceRegistry,
    ReferenceRegistryUnavailableError,
)
from tests.support.registry_proxy import RegistryProxy
from tests.support.signatures import cosign_signature, new_key, referrer
from tests.support.skopeo import Skopeo
from tests.support.upload import push_blob, push_image, push_manifest

pytestmark = pytest.mark.skopeo

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SBOM_TYPE = "application/spdx+json"
SIGNATURE_TYPE = "application/vnd.example.signature.v1"
QUICK_RETRIES = {"BERTH_REPLICATION_ATTEMPTS": "3", "BERTH_REPLICATION_BACKOFF": "0.05"}


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[ReferenceRegistry]:
    """A Distribution of this test's own."""
    registry = ReferenceRegistry(tmp_path / "distribution")
    try:
        registry.start()
    except ReferenceRegistryUnavailableError as exc:
        pytest.skip(str(exc))
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def hub(hub_factory) -> HubProcess:
    # Checks for pushed tags often, so an on-push copy shows up quickly.
    return hub_factory.start(env={"BERTH_REPLICATION_CHECK_INTERVAL": "0.2"})


def replication(
    hub: HubProcess, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`berth-hub replication ARGS --data DIR` on the hub's data directory."""
    return subprocess.run(
        [sys.executable, "-m", "registry", "replication", *args, "--data", str(hub.data_dir)],
        cwd=REPO_ROOT, env=repo_env(env), input=stdin, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def runs(hub: HubProcess, rule: str) -> list[dict]:
    listed = replication(hub, "runs", rule, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def raw(skopeo: Skopeo, image: str) -> bytes:
    return skopeo.inspect(image, raw=True).stdout.encode()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_index(url: str, repository: str, tag: str, index: BuiltIndex) -> None:
    for image in index.images:
        push_image(url, repository, image.manifest_digest, image)
    push_manifest(url, repository, tag, index.index, OCI_INDEX)


def test_a_push_rule_copies_images_indexes_and_signatures_to_distribution(
    hub: HubProcess,
    remote: ReferenceRegistry,
    skopeo: Skopeo,
    built_image: BuiltImage,
    multiarch_index: BuiltIndex,
    tmp_path: Path,
) -> None:
    image_digest = push_image(hub.url, "team/app", "v1", built_image)
    push_index(hub.url, "team/multi", "v1", multiarch_index)
    signature = cosign_signature(new_key(), image_digest)
    for blob in signature.blobs.values():
        push_blob(hub.url, "team/app", blob)
    sig_tag = image_digest.replace(":", "-") + ".sig"
    push_manifest(hub.url, "team/app", sig_tag, signature.manifest, OCI_MANIFEST)
    sbom = referrer(SBOM_TYPE, SBOM_TYPE, b'{"spdxVersion": "SPDX-2.3"}', image_digest,
                    len(built_image.manifest))  # fmt: skip
    for blob in sbom.blobs.values():
        push_blob(hub.url, "team/app", blob)
    push_manifest(hub.url, "team/app", sbom.digest, sbom.manifest, OCI_MANIFEST)
    push_image(hub.url, "other/app", "v1", built_image)  # matches no rule

    added = replication(
        hub, "add", "to-dist", "--direction", "push", "--url", f"http://{remote.host}",
        "--repositories", "team/*", "--tags", "v*", "--on-push",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = replication(hub, "ls")
    assert "to-dist" in listed.stdout and "manual,push" in listed.stdout

    first = replication(hub, "run", "to-dist")
    assert first.returncode == 0, first.stdout + first.stderr
    [run] = runs(hub, "to-dist")
    # app: 3 layers + config + manifest, signature: 2 blobs + manifest, SBOM: 2 blobs +
    # manifest; multi: the arm64 image's own layer and config, 2 manifests and the index
    # (the shared layers are mounted from team/app, or skipped when team/multi went first).
    assert (run["status"], run["trigger"], run["failed"]) == ("succeeded", "manual", 0)
    assert run["copied"] + run["skipped"] > 0 and run["errors"] == []

    distribution = f"docker://{remote.host}"
    assert raw(skopeo, f"{distribution}/team/app:v1") == built_image.manifest
    assert raw(skopeo, f"{distribution}/team/multi:v1") == multiarch_index.index
    assert raw(skopeo, f"{distribution}/team/app:{sig_tag}") == signature.manifest
    assert raw(skopeo, f"{distribution}/team/app@{sbom.digest}") == sbom.manifest
    # Distribution has no referrers API: the SBOM is listed by the referrers tag schema's index.
    fallback = image_digest.replace(":", "-")
    assert sorted(skopeo.list_tags(f"{distribution}/team/app")) == sorted(
        ["v1", sig_tag, fallback]
    )
    listed = json.loads(raw(skopeo, f"{distribution}/team/app:{fallback}"))
    assert [m["digest"] for m in listed["manifests"]] == [sbom.digest]
    assert http_request("GET", f"http://{remote.host}/v2/other/app/tags/list").status == 404
    # Every blob arrived whole: skopeo checks each against its digest.
    skopeo.copy(f"{distribution}/team/multi:v1", f"oci:{tmp_path / 'multi'}:v1", "--all",
                "--preserve-digests")  # fmt: skip
    pulled = json.loads((tmp_path / "multi" / "index.json").read_text())
    assert pulled["manifests"][0]["digest"] == multiarch_index.digest

    second = replication(hub, "run", "to-dist")
    assert second.returncode == 0, second.stdout + second.stderr
    latest = runs(hub, "to-dist")[0]
    assert (latest["status"], latest["copied"], latest["failed"]) == ("succeeded", 0, 0)
    # The two tags of team/app (v1, and the signature's as attached to it), the SBOM by
    # digest, and the index's tag: each already there, its whole tree skipped.
    assert latest["skipped"] == 4

    # A push to the hub is copied by the hub process itself (the rule copies on push).
    v2 = push_image(hub.url, "team/app", "v2", built_image)
    assert wait_until(
        lambda: http_request("HEAD", f"http://{remote.host}/v2/team/app/manifests/v2",
                             headers={"Accept": OCI_MANIFEST}).status == 200,
        timeout=60,
    ), hub.log_tail()  # fmt: skip
    assert raw(skopeo, f"{distribution}/team/app:v2") == built_image.manifest
    pushed = [r for r in runs(hub, "to-dist") if r["trigger"] == "push"]
    assert pushed and pushed[0]["status"] == "succeeded", pushed
    assert v2 == image_digest


def test_a_pull_rule_copies_from_distribution_into_the_hub(
    hub: HubProcess,
    remote: ReferenceRegistry,
    skopeo: Skopeo,
    oci_layout: OciLayout,
    multiarch_layout: OciLayout,
) -> None:
    distribution = f"docker://{remote.host}"
    skopeo.copy(oci_layout.reference, f"{distribution}/up/app:1.0", "--preserve-digests")
    skopeo.copy(multiarch_layout.reference, f"{distribution}/up/multi:1.0", "--all",
                "--preserve-digests")  # fmt: skip
    added = replication(
        hub, "add", "from-dist", "--direction", "pull", "--url", f"http://{remote.host}",
        "--repositories", "up/*", "--destination", "mirror",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    first = replication(hub, "run", "from-dist")
    assert first.returncode == 0, first.stdout + first.stderr
    copied = runs(hub, "from-dist")[0]
    assert (copied["status"], copied["skipped"], copied["failed"]) == ("succeeded", 0, 0)
    assert copied["copied"] > 0

    mirrored = f"docker://{hub.host}/mirror/up"
    for name, layout in (("app", oci_layout), ("multi", multiarch_layout)):
        got = raw(skopeo, f"{mirrored}/{name}:1.0")
        assert sha256(got) == layout.root_digest
        assert got == raw(skopeo, f"{distribution}/up/{name}:1.0")

    second = replication(hub, "run", "from-dist")
    assert second.returncode == 0, second.stdout + second.stderr
    again = runs(hub, "from-dist")[0]
    assert (again["status"], again["copied"], again["skipped"]) == ("succeeded", 0, 2)


def test_a_run_against_a_down_remote_fails_with_retries_and_the_next_completes(
    hub: HubProcess,
    remote: ReferenceRegistry,
    skopeo: Skopeo,
    built_image: BuiltImage,
) -> None:
    # Distribution behind Docker's token auth: the rule's password (sealed) gets the tokens.
    front = RegistryProxy(remote.host, credentials=("bot", "remote-pass-1")).start()
    try:
        push_image(hub.url, "team/app", "v1", built_image)
        added = replication(
            hub, "add", "guarded", "--direction", "push", "--url", f"http://{front.host}",
            "--repositories", "team/app", "--username", "bot", "--password-stdin",
            stdin="remote-pass-1\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "remote-pass-1" not in replication(hub, "show", "guarded").stdout

        front.fail_status = 503
        failed = replication(hub, "run", "guarded", env=QUICK_RETRIES)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "503" in failed.stdout
        [run] = runs(hub, "guarded")
        assert (run["status"], run["copied"], run["failed"]) == ("failed", 0, 1)
        assert run["retries"] == 2
        assert [(e["item"], e["attempts"]) for e in run["errors"]] == [("team/app:v1", 3)]

        # Up again, but dying under every blob upload: each PUT reaches Distribution and the
        # answer never comes back. The blobs fail, so the manifest is not pushed.
        front.fail_status = None
        front.drop_upload_puts = 1000
        cut = replication(hub, "run", "guarded", env=QUICK_RETRIES)
        assert cut.returncode == 1, cut.stdout + cut.stderr
        broken = runs(hub, "guarded")[0]
        blobs = len(built_image.blobs())
        assert (broken["status"], broken["copied"], broken["failed"]) == ("failed", 0, blobs + 1)
        assert broken["errors"][-1]["item"] == "team/app:v1"
        assert all(e["attempts"] == 3 for e in broken["errors"][:-1])
        assert http_request("GET", f"http://{remote.host}/v2/team/app/tags/list").status == 404

        # The next run finds the blobs that did arrive (HEAD) and pushes the manifest.
        front.drop_upload_puts = 0
        done = replication(hub, "run", "guarded", env=QUICK_RETRIES)
        assert done.returncode == 0, done.stdout + done.stderr
        latest = runs(hub, "guarded")[0]
        assert (latest["status"], latest["failed"], latest["retries"]) == ("succeeded", 0, 0)
        assert (latest["copied"], latest["skipped"]) == (1, blobs)
        assert front.token_scopes, "the remote's token service was asked"
        image = f"docker://{remote.host}/team/app:v1"
        assert raw(skopeo, image) == built_image.manifest
    finally:
        front.stop()


def test_shared_layers_are_sent_once_and_mounted_into_other_repositories(
    hub: HubProcess,
    remote: ReferenceRegistry,
    skopeo: Skopeo,
    built_image: BuiltImage,
    multiarch_index: BuiltIndex,
) -> None:
    push_image(hub.url, "team/app", "v1", built_image)
    push_index(hub.url, "team/multi", "v1", multiarch_index)  # shares built_image's layers
    front = RegistryProxy(remote.host).start()
    try:
        added = replication(
            hub, "add", "watched", "--direction", "push", "--url", f"http://{front.host}",
            "--repositories", "team/*",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        done = replication(hub, "run", "watched")
        assert done.returncode == 0, done.stdout + done.stderr
        uploads = [r.method for r in front.requests if "/blobs/uploads/" in r.path]
    finally:
        front.stop()
    distinct = {*built_image.blobs(), *(d for i in multiarch_index.images for d in i.blobs())}
    # team/app is copied first (by name): every blob of it is sent (a POST, then a PUT with the
    # bytes); the index's images then send only what team/app lacks and mount the rest from it
    # (a POST with `?mount=&from=` answered 201, no PUT).
    assert uploads.count("PUT") == len(distinct)
    assert uploads.count("POST") - uploads.count("PUT") == len(built_image.blobs())
    assert "DELETE" not in uploads
    assert raw(skopeo, f"docker://{remote.host}/team/multi:v1") == multiarch_index.index


def test_a_push_rule_to_another_berth_carries_referrers_through_its_api(
    hub: HubProcess,
    hub_factory,
    built_image: BuiltImage,
) -> None:
    other = hub_factory.start()
    image_digest = push_image(hub.url, "team/app", "v1", built_image)
    sbom = referrer(SBOM_TYPE, SBOM_TYPE, b'{"spdxVersion": "SPDX-2.3"}', image_digest,
                    len(built_image.manifest))  # fmt: skip
    for blob in sbom.blobs.values():
        push_blob(hub.url, "team/app", blob)
    push_manifest(hub.url, "team/app", sbom.digest, sbom.manifest, OCI_MANIFEST)
    added = replication(
        hub, "add", "to-berth", "--direction", "push", "--url", other.url,
        "--repositories", "team/app", "--destination", "dr",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = replication(hub, "run", "to-berth")
    assert done.returncode == 0, done.stdout + done.stderr

    listed = http_request("GET", f"{other.url}/v2/dr/team/app/referrers/{image_digest}")
    assert listed.status == 200, listed.body
    assert [m["digest"] for m in listed.json()["manifests"]] == [sbom.digest]
    got = http_request("GET", f"{other.url}/v2/dr/team/app/manifests/{sbom.digest}",
                       headers={"Accept": OCI_MANIFEST})  # fmt: skip
    assert got.body == sbom.manifest

    # And back: a pull rule on the other Berth reads the referrers through the first's API.
    back = subprocess.run(
        [sys.executable, "-m", "registry", "replication", "add", "from-first", "--direction",
         "pull", "--url", hub.url, "--repositories", "team/app", "--destination", "back",
         "--data", str(other.data_dir)],
        cwd=REPO_ROOT, env=repo_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert back.returncode == 0, back.stderr
    pulled = subprocess.run(
        [sys.executable, "-m", "registry", "replication", "run", "from-first",
         "--data", str(other.data_dir)],
        cwd=REPO_ROOT, env=repo_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    listed = http_request("GET", f"{other.url}/v2/back/team/app/referrers/{image_digest}")
    assert [m["digest"] for m in listed.json()["manifests"]] == [sbom.digest]


def test_a_run_started_through_the_api_is_answered_at_once_and_followed_to_its_end(
    hub_factory,
    remote: ReferenceRegistry,
    skopeo: Skopeo,
    built_image: BuiltImage,
    oci_layout: OciLayout,
) -> None:
    # The replication API is a hub admin's: a hub with auth on.
    hub = hub_factory.start(no_auth=False, env={"BERTH_ADMIN_PASSWORD": "replication-admin-1"})
    admin = {"Authorization": "Basic " + base64.b64encode(b"admin:replication-admin-1").decode()}

    def api(method: str, path: str) -> HttpResponse:
        return http_request(method, hub.url + path, headers=admin, timeout=30)

    skopeo.run("copy", "--dest-tls-verify=false", "--dest-creds", "admin:replication-admin-1",
               oci_layout.reference, f"docker://{hub.host}/team/app:v1")
    front = RegistryProxy(remote.host).start()
    try:
        added = replication(
            hub, "add", "to-dist", "--direction", "push", "--url", f"http://{front.host}",
            "--repositories", "team/app",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        front.hold()  # the remote stops answering: the run cannot end before it is released
        rule_runs = "/api/v1/replication/rules/to-dist/runs"
        answer = api("POST", rule_runs)
        assert answer.status == 202, answer.body
        started = answer.json()
        location = answer.headers["Location"]
        assert location == f"/api/v1/replication/runs/{started['id']}"
        assert (started["status"], started["trigger"]) == ("running", "manual")
        assert api("GET", location).json()["status"] == "running"
        assert [(r["id"], r["status"]) for r in runs(hub, "to-dist")] == [
            (started["id"], "running")
        ]
        again = api("POST", rule_runs)  # no rule runs twice at once
        assert again.status == 409 and again.error_codes() == ["ALREADY_EXISTS"]

        front.release()

        def ended() -> bool:
            return api("GET", location).json()["status"] != "running"

        assert wait_until(ended, timeout=60), hub.log_tail()
        run = api("GET", location).json()
        assert (run["status"], run["failed"]) == ("succeeded", 0), run
        assert run["copied"] == len(built_image.blobs()) + 1
        assert runs(hub, "to-dist")[0] == run
        assert raw(skopeo, f"docker://{remote.host}/team/app:v1") == built_image.manifest
    finally:
        front.stop()


def test_referrers_copied_to_distribution_are_added_to_its_referrers_tag_index(
    hub: HubProcess,
    remote: ReferenceRegistry,
    skopeo: Skopeo,
    built_image: BuiltImage,
) -> None:
    image_digest = push_image(hub.url, "team/app", "v1", built_image)
    sbom = referrer(SBOM_TYPE, SBOM_TYPE, b'{"spdxVersion": "SPDX-2.3"}', image_digest,
                    len(built_image.manifest))  # fmt: skip
    for blob in sbom.blobs.values():
        push_blob(hub.url, "team/app", blob)
    push_manifest(hub.url, "team/app", sbom.digest, sbom.manifest, OCI_MANIFEST)
    # Distribution already holds the image and a signature a client attached there by the
    # referrers tag schema (Distribution 2.8 has no referrers API).
    distribution_url = f"http://{remote.host}"
    push_image(distribution_url, "team/app", "v1", built_image)
    signature = referrer(SIGNATURE_TYPE, SIGNATURE_TYPE, b"signed", image_digest,
                         len(built_image.manifest))  # fmt: skip
    for blob in signature.blobs.values():
        push_blob(distribution_url, "team/app", blob)
    push_manifest(distribution_url, "team/app", signature.digest, signature.manifest, OCI_MANIFEST)
    fallback = image_digest.replace(":", "-")
    theirs = {"mediaType": OCI_MANIFEST, "digest": signature.digest,
              "size": len(signature.manifest), "artifactType": SIGNATURE_TYPE}  # fmt: skip
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [theirs]}
    push_manifest(distribution_url, "team/app", fallback, json.dumps(index).encode(), OCI_INDEX)
    assert http_request(
        "GET", f"{distribution_url}/v2/team/app/referrers/{image_digest}"
    ).status == 404  # fmt: skip

    added = replication(
        hub, "add", "to-dist", "--direction", "push", "--url", distribution_url,
        "--repositories", "team/app",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = replication(hub, "run", "to-dist")
    assert done.returncode == 0, done.stdout + done.stderr

    # A client reading the fallback finds both: the one there before, and the SBOM described
    # as the hub's referrers API describes it.
    image = f"docker://{remote.host}/team/app"
    listed = json.loads(raw(skopeo, f"{image}:{fallback}"))
    assert listed["mediaType"] == OCI_INDEX
    ours = http_request("GET", f"{hub.url}/v2/team/app/referrers/{image_digest}").json()
    assert listed["manifests"] == [theirs, *ours["manifests"]]
    assert [m["digest"] for m in ours["manifests"]] == [sbom.digest]
    for entry in listed["manifests"]:
        assert sha256(raw(skopeo, f"{image}@{entry['digest']}")) == entry["digest"]

    # Listed already: the next run leaves the index as it is.
    before = raw(skopeo, f"{image}:{fallback}")
    again = replication(hub, "run", "to-dist")
    assert again.returncode == 0, again.stdout + again.stderr
    assert runs(hub, "to-dist")[0]["copied"] == 0
    assert raw(skopeo, f"{image}:{fallback}") == before
