"""The pull-through cache against Debian's Distribution (`docker-registry`) as the upstream.

A hub process is configured with proxy namespaces; skopeo and `berth pull` pull through them,
and the upstream is stopped, throttled, made to answer 429 or cut mid-blob (the fault-injecting
`RegistryProxy` in front of it) to show what clients then see.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry.config import load_settings
from registry.db.engine import create_engine
from registry.oci import mediatypes
from registry.proxy.expiry import expire_cached
from registry.settings import Settings
from tests.support.berth_cli import BerthCli
from tests.support.http import http_request, with_query
from tests.support.hub import REPO_ROOT, HubProcess, repo_env, run_hub_cli
from tests.support.images import BuiltImage, OciLayout, write_oci_layout
from tests.support.ports import wait_until
from tests.support.reference_registry import (
    ReferenceRegistry,
    ReferenceRegistryUnavailableError,
)
from tests.support.registry_proxy import RegistryProxy
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.skopeo

OCI_ACCEPT = {"Accept": ", ".join(sorted(mediatypes.MANIFEST_TYPES))}


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[ReferenceRegistry]:
    """A Distribution of this test's own (tests stop it)."""
    registry = ReferenceRegistry(tmp_path / "upstream")
    try:
        registry.start()
    except ReferenceRegistryUnavailableError as exc:
        pytest.skip(str(exc))
    try:
        yield registry
    finally:
        registry.stop()


def write_config(path: Path, namespaces: dict[str, dict[str, str]], tag_ttl: float = 300,
                 mirror: str | None = None) -> Path:
    lines = ["[proxy]", f"tag_ttl = {tag_ttl}"]
    lines += [f"mirror = {json.dumps(mirror)}", ""] if mirror else [""]
    for name, table in namespaces.items():
        lines.append(f"[proxy.namespaces.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def start_hub(tmp_path: Path, namespaces: dict[str, dict[str, str]],
              tag_ttl: float = 300, mirror: str | None = None) -> HubProcess:
    config = write_config(tmp_path / "berth.toml", namespaces, tag_ttl, mirror)
    return HubProcess(tmp_path / "hub-data", tmp_path / "hub.log",
                      extra_args=["--config", str(config)]).start()


def stored_blob(hub: HubProcess, digest: str) -> Path:
    hexa = digest.removeprefix("sha256:")
    return hub.data_dir / "storage" / "blobs" / "sha256" / hexa[:2] / hexa / "data"


def wait_stored(hub: HubProcess, digest: str) -> bytes:
    """The blob's stored bytes, once the hub committed them (just after the last byte went out)."""
    path = stored_blob(hub, digest)
    assert wait_until(path.exists, 30), f"{digest} was not stored"
    return path.read_bytes()


def read_layout(path: Path, tag: str) -> tuple[str, dict[str, bytes]]:
    index = json.loads((path / "index.json").read_bytes())
    [root] = [entry["digest"] for entry in index["manifests"]
              if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    blobs = {"sha256:" + blob.name: blob.read_bytes()
             for blob in (path / "blobs" / "sha256").iterdir()}
    return root, blobs


def test_skopeo_and_berth_pull_through_the_proxy(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo, oci_layout: OciLayout,
    built_image: BuiltImage,
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/team/app:v1")
    hub = start_hub(tmp_path, {"up": {"url": f"http://{upstream.host}"}})
    try:
        skopeo.copy(f"docker://{hub.host}/up/team/app:v1", f"oci:{tmp_path / 'out'}:v1",
                    "--preserve-digests")
        root, blobs = read_layout(tmp_path / "out", "v1")
        assert root == built_image.manifest_digest
        assert blobs == oci_layout.blobs
        # Every blob is now in the hub's own content-addressed storage, byte for byte.
        for digest, data in built_image.blobs().items():
            assert wait_stored(hub, digest) == data

        berth = BerthCli(tmp_path / "berth-root")
        result = berth("pull", f"{hub.host}/up/team/app:v1")
        assert result.stdout.strip() == f"{hub.host}/up/team/app:v1"
        inspect = berth("image", "inspect", "--format", "{{.Id}}", f"{hub.host}/up/team/app:v1")
        assert inspect.stdout.strip() == built_image.config_digest
        by_digest = f"{hub.host}/up/team/app@{built_image.manifest_digest}"
        berth("pull", by_digest)
    finally:
        hub.stop()


def test_upstream_with_token_auth_and_sealed_password(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo, oci_layout: OciLayout,
    built_image: BuiltImage,
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/team/secret:v1")
    guarded = RegistryProxy(upstream.host, credentials=("alice", "s3cret-pass")).start()
    try:
        sealed = subprocess.run(
            [sys.executable, "-m", "registry", "proxy", "seal-password", "private",
             "--data", str(tmp_path / "hub-data")],
            input="s3cret-pass\n", capture_output=True, text=True, check=True, cwd=REPO_ROOT,
            env=repo_env(),
        ).stdout.strip()
        assert sealed.startswith("berth-sealed:v1:") and "s3cret" not in sealed
        hub = start_hub(tmp_path, {"private": {"url": f"http://{guarded.host}",
                                               "username": "alice", "password": sealed}})
        try:
            skopeo.copy(f"docker://{hub.host}/private/team/secret:v1",
                        f"oci:{tmp_path / 'out'}:v1")
            root, _ = read_layout(tmp_path / "out", "v1")
            assert root == built_image.manifest_digest
            assert "repository:team/secret:pull" in guarded.token_scopes
            assert "s3cret-pass" not in hub.log_text()
        finally:
            hub.stop()
        # The config file holds only ciphertext, bound to its namespace: under another
        # namespace's name it does not open, and the hub refuses to start.
        other = tmp_path / "other.toml"
        write_config(other, {"elsewhere": {"url": f"http://{guarded.host}",
                                           "username": "alice", "password": sealed}})
        refused = HubProcess(tmp_path / "hub-data", tmp_path / "hub2.log",
                             extra_args=["--config", str(other)])
        with pytest.raises(Exception, match="does not open"):
            refused.start()
    finally:
        guarded.stop()


def manifest(hub: HubProcess, name: str, reference: str):  # type: ignore[no-untyped-def]
    return http_request("GET", f"{hub.url}/v2/{name}/manifests/{reference}",
                        headers=OCI_ACCEPT)


def test_cached_tags_survive_an_upstream_outage(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo, oci_layout: OciLayout,
    built_image: BuiltImage,
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/team/app:v1")
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/team/app:uncached")
    hub = start_hub(tmp_path, {"up": {"url": f"http://{upstream.host}"}}, tag_ttl=0)
    try:
        skopeo.copy(f"docker://{hub.host}/up/team/app:v1", f"oci:{tmp_path / 'first'}:v1")
        upstream.stop()

        served = manifest(hub, "up/team/app", "v1")
        assert served.status == 200
        assert served.body == built_image.manifest
        assert "Revalidation Failed" in served.headers["Warning"]
        assert upstream.host in served.headers["Warning"]
        by_digest = manifest(hub, "up/team/app", built_image.manifest_digest)
        assert by_digest.status == 200 and "Warning" not in by_digest.headers
        skopeo.copy(f"docker://{hub.host}/up/team/app:v1", f"oci:{tmp_path / 'again'}:v1")
        root, blobs = read_layout(tmp_path / "again", "v1")
        assert root == built_image.manifest_digest and blobs == oci_layout.blobs

        missing = manifest(hub, "up/team/app", "uncached")
        assert missing.status == 503
        [error] = json.loads(missing.body)["errors"]
        assert error["code"] == "UNAVAILABLE"
        assert f"upstream http://{upstream.host} is unreachable" in error["message"]
    finally:
        hub.stop()


def test_cached_tags_survive_an_upstream_answering_429(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo, oci_layout: OciLayout,
    built_image: BuiltImage,
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/team/app:v1")
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/team/app:uncached")
    front = RegistryProxy(upstream.host).start()
    hub = start_hub(tmp_path, {"up": {"url": f"http://{front.host}"}}, tag_ttl=0)
    try:
        skopeo.copy(f"docker://{hub.host}/up/team/app:v1", f"oci:{tmp_path / 'first'}:v1")
        front.fail_status = 429
        before = len(front.requests)

        served = manifest(hub, "up/team/app", "v1")
        assert served.status == 200 and served.body == built_image.manifest
        assert "answered 429" in served.headers["Warning"]
        assert len(front.requests) > before  # the tag was revalidated, not just served
        skopeo.copy(f"docker://{hub.host}/up/team/app:v1", f"oci:{tmp_path / 'again'}:v1")

        missing = manifest(hub, "up/team/app", "uncached")
        assert missing.status == 429
        assert missing.headers["Retry-After"] == "1"
        [error] = json.loads(missing.body)["errors"]
        assert error["code"] == "TOOMANYREQUESTS"
        assert f"upstream http://{front.host} answered 429" in error["message"]
    finally:
        hub.stop()
        front.stop()


def test_a_moved_tag_is_seen_after_the_ttl(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo, oci_layout: OciLayout,
    multiarch_layout: OciLayout, multiarch_index,  # type: ignore[no-untyped-def]
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/team/app:latest")
    front = RegistryProxy(upstream.host).start()
    hub = start_hub(tmp_path, {"up": {"url": f"http://{front.host}"}}, tag_ttl=3600)
    try:
        first = manifest(hub, "up/team/app", "latest")
        assert first.status == 200
        skopeo.copy(multiarch_layout.reference, f"docker://{upstream.host}/team/app:latest",
                    "--all")
        before = len(front.requests)
        # Within the TTL: served from the cache, the upstream not asked.
        again = manifest(hub, "up/team/app", "latest")
        assert again.body == first.body and len(front.requests) == before
    finally:
        hub.stop()
    hub = start_hub(tmp_path, {"up": {"url": f"http://{front.host}"}}, tag_ttl=0)
    try:
        moved = manifest(hub, "up/team/app", "latest")
        assert moved.status == 200
        assert moved.headers["Docker-Content-Digest"] == multiarch_index.digest
    finally:
        hub.stop()
        front.stop()


def test_pushes_into_a_proxy_namespace_are_denied(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo, oci_layout: OciLayout,
) -> None:
    hub = start_hub(tmp_path, {"up": {"url": f"http://{upstream.host}"}})
    try:
        result = skopeo.copy(oci_layout.reference, f"docker://{hub.host}/up/team/app:v1",
                             check=False)
        assert result.returncode != 0
        start = http_request("POST", f"{hub.url}/v2/up/team/app/blobs/uploads/")
        assert start.status == 403
        [error] = json.loads(start.body)["errors"]
        assert error["code"] == "DENIED"
        assert "pull-through cache" in error["message"] and "pushes are refused" in error["message"]
        put = http_request("PUT", f"{hub.url}/v2/up/team/app/manifests/v1", body=b"{}",
                           headers={"Content-Type": mediatypes.OCI_MANIFEST})
        assert put.status == 403
        # Other namespaces take pushes as ever.
        skopeo.copy(oci_layout.reference, f"docker://{hub.host}/mine/app:v1")
    finally:
        hub.stop()


def _big_layout(tmp_path: Path, size: int) -> tuple[OciLayout, BuiltImage]:
    from tests.integration.test_berth_images import _big_image

    image = _big_image(size)
    return write_oci_layout(tmp_path / "big-layout", "v1", image), image


class ShortBodyError(Exception):
    """The connection ended before `Content-Length` bytes arrived."""


def _pull_blob(url: str) -> tuple[int, str]:
    """Bytes and sha256 of a whole blob GET, hashed as it streams.

    Raises:
        ShortBodyError: the body ended early.
    """
    digest = hashlib.sha256()
    size = 0
    with urllib.request.urlopen(url, timeout=120) as response:
        declared = int(response.headers["Content-Length"])
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    if size != declared:
        raise ShortBodyError(f"{size} of {declared} bytes")
    return size, "sha256:" + digest.hexdigest()


def test_concurrent_pulls_of_a_missing_blob_make_one_upstream_fetch(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo,
) -> None:
    layout, image = _big_layout(tmp_path, 24 * 1024 * 1024)
    skopeo.copy(layout.reference, f"docker://{upstream.host}/team/big:v1")
    layer = image.layers[0]
    # Slow enough that all 20 clients ask while the one fetch is running.
    front = RegistryProxy(upstream.host, throttle=12 * 1024 * 1024).start()
    hub = start_hub(tmp_path, {"up": {"url": f"http://{front.host}"}})
    try:
        assert manifest(hub, "up/team/big", "v1").status == 200
        url = f"{hub.url}/v2/up/team/big/blobs/{layer.digest}"
        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(_pull_blob, [url] * 20))
        assert results == [(len(layer.gzipped), layer.digest)] * 20
        fetches = [r for r in front.requests if r.method == "GET" and r.path.endswith(layer.digest)]
        assert len(fetches) == 1
        assert wait_stored(hub, layer.digest) == layer.gzipped
        # Stored now: served by the hub alone.
        assert _pull_blob(url) == (len(layer.gzipped), layer.digest)
        assert len([r for r in front.requests if r.path.endswith(layer.digest)]) == 1
    finally:
        hub.stop()
        front.stop()


def _push_blob(registry: ReferenceRegistry, repository: str, blob: bytes) -> str:
    """Push `blob` to the registry in one monolithic upload; return its digest."""
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    started = http_request("POST", f"http://{registry.host}/v2/{repository}/blobs/uploads/")
    assert started.status == 202, started.body
    put = http_request("PUT", with_query(f"http://{registry.host}",
                                         started.headers["Location"], digest=digest),
                       body=blob, headers={"Content-Type": "application/octet-stream"},
                       timeout=120)
    assert put.status == 201, put.body
    return digest


def _peak_memory(pid: int | None) -> int:
    """The process's peak resident memory so far, in bytes (`VmHWM`)."""
    status = Path(f"/proc/{pid}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def test_twenty_pulls_of_a_200_mib_blob_share_one_fetch_sent_from_disk(
    tmp_path: Path, upstream: ReferenceRegistry,
) -> None:
    """20 clients get the bytes of one fetch as they arrive, read back from disk: the hub
    never holds the blob in memory, however many follow the fetch."""
    blob = os.urandom(200 * 1024 * 1024)
    digest = _push_blob(upstream, "team/huge", blob)
    # Slow enough that the 20 clients join the one fetch while it runs.
    front = RegistryProxy(upstream.host, throttle=100 * 1024 * 1024).start()
    hub = start_hub(tmp_path, {"up": {"url": f"http://{front.host}"}})
    try:
        before = _peak_memory(hub.pid)
        url = f"{hub.url}/v2/up/team/huge/blobs/{digest}"
        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(_pull_blob, [url] * 20))
        assert results == [(len(blob), digest)] * 20
        grown = _peak_memory(hub.pid) - before
        assert grown < len(blob) // 2, f"the hub's peak memory grew by {grown} bytes"
        fetches = [r for r in front.requests if r.method == "GET" and r.path.endswith(digest)]
        assert len(fetches) == 1
        assert wait_stored(hub, digest) == blob
    finally:
        hub.stop()
        front.stop()


def test_a_blob_cut_mid_transfer_is_never_stored(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo,
) -> None:
    layout, image = _big_layout(tmp_path, 8 * 1024 * 1024)
    skopeo.copy(layout.reference, f"docker://{upstream.host}/team/big:v1")
    layer = image.layers[0]
    front = RegistryProxy(upstream.host, cut_blobs_after=3 * 1024 * 1024).start()
    hub = start_hub(tmp_path, {"up": {"url": f"http://{front.host}"}})
    try:
        url = f"{hub.url}/v2/up/team/big/blobs/{layer.digest}"
        with pytest.raises(ShortBodyError):
            _pull_blob(url)
        assert not stored_blob(hub, layer.digest).exists()
        assert list((hub.data_dir / "storage" / "uploads").glob("*/data")) == []
        head = http_request("HEAD", url)
        assert head.status == 200  # answered by the upstream: nothing is cached
        assert not stored_blob(hub, layer.digest).exists()
        # The next pull fetches it again, whole.
        front.cut_blobs_after = None
        assert _pull_blob(url) == (len(layer.gzipped), layer.digest)
        assert wait_stored(hub, layer.digest) == layer.gzipped
    finally:
        hub.stop()
        front.stop()


def test_with_auth_access_follows_the_namespaces_permissions(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo, oci_layout: OciLayout,
    built_image: BuiltImage,
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/team/app:v1")
    front = RegistryProxy(upstream.host).start()
    config = write_config(tmp_path / "berth.toml", {"up": {"url": f"http://{front.host}"}})
    hub = HubProcess(tmp_path / "hub-data", tmp_path / "hub.log", no_auth=False,
                     env={"BERTH_ADMIN_PASSWORD": "proxy-admin-password"},
                     extra_args=["--config", str(config)]).start()

    def cli(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "registry", *args, "--data", str(hub.data_dir)],
                       cwd=REPO_ROOT, env=repo_env(), check=True, capture_output=True)

    try:
        # No organisation grants anything yet: anonymous callers never reach the upstream.
        refused = skopeo.copy(f"docker://{hub.host}/up/team/app:v1",
                              f"oci:{tmp_path / 'refused'}:v1", check=False)
        assert refused.returncode != 0
        assert front.requests == []
        cli("org", "add", "up", "--owner", "admin")
        cli("org", "default", "up", "public")
        skopeo.copy(f"docker://{hub.host}/up/team/app:v1", f"oci:{tmp_path / 'out'}:v1")
        root, blobs = read_layout(tmp_path / "out", "v1")
        assert root == built_image.manifest_digest and blobs == oci_layout.blobs
    finally:
        hub.stop()
        front.stop()


def _upstream_blob_gets(hub: HubProcess) -> int:
    """Blob and manifest GETs the hub sent its upstream since it started (`/metrics`)."""
    metrics = http_request("GET", f"{hub.url}/metrics").body.decode()
    prefix = 'berth_proxy_upstream_requests_total{method="GET",namespace="up",status="200"} '
    return sum(int(float(line.removeprefix(prefix))) for line in metrics.splitlines()
               if line.startswith(prefix))


def test_an_expired_tag_is_reclaimed_by_berth_hub_gc_and_fetched_again(
    tmp_path: Path, upstream: ReferenceRegistry, skopeo: Skopeo, oci_layout: OciLayout,
    built_image: BuiltImage,
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{upstream.host}/team/app:v1")
    hub = start_hub(tmp_path, {"up": {"url": f"http://{upstream.host}", "expire_days": 7}})
    try:
        skopeo.copy(f"docker://{hub.host}/up/team/app:v1", f"oci:{tmp_path / 'first'}:v1")
        for digest in built_image.blobs():
            wait_stored(hub, digest)
        fetched = _upstream_blob_gets(hub)

        # Eight days later (the hub's own schedule checks hourly; here "now" is passed in).
        settings = load_settings(tmp_path / "berth.toml", env={}, data_dir=hub.data_dir)
        later = datetime.now(UTC) + timedelta(days=8)
        expired = asyncio.run(_expire(settings, later))
        assert expired == ["up/team/app:v1"]
        assert catalog(hub) == ["up/team/app"]
        config = str(tmp_path / "berth.toml")  # gc knows the proxy namespaces from it
        dry = run_hub_cli(hub, "gc", "--grace", "0", "--dry-run", "--config", config)
        assert "would remove emptied cache repository up/team/app" in dry.stdout, dry.stdout
        assert catalog(hub) == ["up/team/app"]
        collected = run_hub_cli(hub, "gc", "--grace", "0", "--config", config)
        assert collected.returncode == 0, collected.stderr
        assert f"removed manifest up/team/app@{built_image.manifest_digest}" in collected.stdout
        for digest in built_image.blobs():
            assert f"removed blob {digest}" in collected.stdout
            assert not stored_blob(hub, digest).exists()
        # Nothing is left in the cached repository: it leaves the catalog and search too.
        assert "removed emptied cache repository up/team/app" in collected.stdout
        assert catalog(hub) == []
        search = http_request("GET", f"{hub.url}/v1/search?q=app").json()
        assert search["results"] == []

        # The next pull fetches the image from the upstream again, byte for byte.
        skopeo.copy(f"docker://{hub.host}/up/team/app:v1", f"oci:{tmp_path / 'again'}:v1",
                    "--preserve-digests")
        root, blobs = read_layout(tmp_path / "again", "v1")
        assert root == built_image.manifest_digest and blobs == oci_layout.blobs
        for digest, data in built_image.blobs().items():
            assert wait_stored(hub, digest) == data
        assert _upstream_blob_gets(hub) == 2 * fetched
        assert catalog(hub) == ["up/team/app"]
    finally:
        hub.stop()


def catalog(hub: HubProcess) -> list[str]:
    return list(http_request("GET", f"{hub.url}/v2/_catalog").json()["repositories"])


async def _expire(settings: Settings, now: datetime) -> list[str]:
    engine = create_engine(settings.database_url or "")
    try:
        expired = await expire_cached(engine, settings.proxy_namespaces, now)
    finally:
        await engine.dispose()
    return [f"{tag.repository}:{tag.tag}" for tag in expired]
