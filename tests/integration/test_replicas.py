"""Several hub processes over one PostgreSQL and one S3 (moto server): no state in a process.

- an upload begun on replica A is continued and completed on replica B;
- a push to A pulls from B at once, byte for byte (B answering with S3 redirects);
- a deleted or moved tag is never served by the other replica;
- with two replicas sharing one port (SO_REUSEPORT), killing one while a push's request to it
  is half sent makes berth resume that upload on the other and complete;
- `serve` refuses a PostgreSQL schema that is behind until `berth-hub db upgrade` ran;
- a token-signing key rotation reaches a replica that keeps running.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.hub import REPO_ROOT, HubError, HubProcess, repo_env
from tests.support.images import Layer, build_image, write_docker_archive
from tests.support.ports import free_port, listening_in_tree, tcp_sockets, wait_until
from tests.support.replicas import db_upgrade, start_replica

pytestmark = pytest.mark.slow


def http(method: str, url: str, data: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request; redirects are followed (urllib does, to the presigned S3 URL)."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_serve_refuses_a_schema_behind_until_db_upgrade(hub_factory, postgres, s3_server):
    database = postgres.create_database("behind")
    storage = f"s3://{s3_server.new_bucket('behind')}/hub"
    with pytest.raises(HubError) as refused:
        hub_factory.start(database=database, storage=storage, env=s3_server.env())
    assert "berth-hub db upgrade" in str(refused.value)
    db_upgrade(database)
    hub = hub_factory.start(database=database, storage=storage, env=s3_server.env())
    assert http("GET", f"{hub.url}/v2/")[0] == 200


def test_upload_begun_on_one_replica_completes_on_the_other(hub_factory, backend):
    a = start_replica(hub_factory, backend)
    b = start_replica(hub_factory, backend, env={"BERTH_S3_REDIRECT": "true"})
    data = os.urandom(7 * 1024 * 1024 + 123)  # more than one S3 part
    status, headers, _ = http("POST", f"{a.url}/v2/shared/blob/blobs/uploads/")
    assert status == 202
    location = headers["Location"]
    first = 6 * 1024 * 1024
    status, headers, _ = http("PATCH", f"{a.url}{location}", data[:first],
                              {"Content-Range": f"0-{first - 1}",
                               "Content-Type": "application/octet-stream"})
    assert status == 202
    status, headers, _ = http("GET", f"{b.url}{location}")
    assert (status, headers["Range"]) == (204, f"0-{first - 1}")
    status, headers, _ = http("PATCH", f"{b.url}{location}", data[first:],
                              {"Content-Range": f"{first}-{len(data) - 1}",
                               "Content-Type": "application/octet-stream"})
    assert status == 202
    separator = "&" if "?" in location else "?"
    status, _, body = http("PUT", f"{b.url}{location}{separator}digest={sha256(data)}")
    assert status == 201, body
    # A streams from S3; B answers 307 to a presigned URL that urllib follows.
    assert http("GET", f"{a.url}/v2/shared/blob/blobs/{sha256(data)}")[2] == data
    assert http("GET", f"{b.url}/v2/shared/blob/blobs/{sha256(data)}")[2] == data


def test_push_to_one_replica_pulls_from_the_other_and_tags_never_go_stale(
    hub_factory, backend, skopeo, oci_layout, built_image, tmp_path
):
    a = start_replica(hub_factory, backend)
    b = start_replica(hub_factory, backend, env={"BERTH_S3_REDIRECT": "true"})
    skopeo.copy(oci_layout.reference, f"docker://{a.host}/team/app:v1")
    pulled = tmp_path / "pulled"
    skopeo.copy(f"docker://{b.host}/team/app:v1", f"oci:{pulled}:v1")
    for digest, data in built_image.blobs().items():
        assert (pulled / "blobs/sha256" / digest.removeprefix("sha256:")).read_bytes() == data
    manifest = skopeo.inspect(f"docker://{b.host}/team/app:v1", raw=True).stdout.encode()
    assert manifest == built_image.manifest

    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    for _ in range(3):  # read through B's hot paths, then change the tag on A
        assert http("GET", f"{b.url}/v2/team/app/manifests/v1", headers=accept)[0] == 200
    assert http("DELETE", f"{a.url}/v2/team/app/manifests/v1")[0] == 202
    assert http("GET", f"{b.url}/v2/team/app/manifests/v1", headers=accept)[0] == 404
    assert skopeo.list_tags(f"docker://{b.host}/team/app") == []
    skopeo.copy(oci_layout.reference, f"docker://{b.host}/team/app:v2")
    assert skopeo.list_tags(f"docker://{a.host}/team/app") == ["v2"]


def listens(pid: int, port: int) -> bool:
    """Whether process `pid` itself (not a child) holds a socket listening on `port`."""
    return any(row[3] == "0A" for row in tcp_sockets([pid], port))  # 0A: LISTEN


def holds_half_sent_body(pid: int | None, port: int) -> bool:
    """Whether a client connection of `pid` on `port` has more queued bytes than any request
    without a body could have.

    With the process stopped, that means a chunk was being uploaded to it: killing it now cuts
    that PATCH.
    """
    return any(row[3] == "01" and int(row[4].split(":")[1], 16) > 16384  # 01: ESTABLISHED
               for row in tcp_sockets([pid] if pid else [], port))


def _big_layer(name: str, size: int) -> Layer:
    data = os.urandom(size)
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = size
        tar.addfile(info, io.BytesIO(data))
    tar_bytes = tar_buffer.getvalue()
    return Layer(tar=tar_bytes, gzipped=gzip.compress(tar_bytes, compresslevel=1),
                 created_by=f"berth-test: {name}")


def test_killing_a_replica_mid_push_lets_the_client_finish_on_the_other(
    hub_factory, backend, skopeo, tmp_path
):
    """A replica dies while a chunk is sent to it; berth resumes that upload on another one
    sharing the port."""
    image = build_image(base=tuple(_big_layer(f"big{i}.bin", 24 << 20) for i in range(2)))
    port = free_port()
    name = f"127.0.0.1:{port}/big/app:v1"
    berth = BerthCli(tmp_path / "berth-root")
    berth("load", "-i", str(write_docker_archive(tmp_path / "big.tar", image, name)))
    victim = start_replica(hub_factory, backend, port=port)
    push = berth.popen("--debug", "push", name,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # Stop the victim until a chunk is caught half sent to it, so the kill cuts an upload
        # for certain, not by luck of timing.
        cut = False
        while not cut and push.poll() is None:
            os.kill(victim.pid, signal.SIGSTOP)
            cut = wait_until(lambda: holds_half_sent_body(victim.pid, port), 0.3)
            if not cut:
                os.kill(victim.pid, signal.SIGCONT)
                time.sleep(0.05)
        assert cut, "the push ended before a chunk could be caught half sent"
        # The survivor's readiness probe may be queued at the stopped victim: wait until it
        # holds a listening socket of its own.
        survivor = start_replica(hub_factory, backend, port=port)
        assert wait_until(lambda: listening_in_tree(survivor.pid, port), 60), survivor.log_tail()
        victim.kill()
        output, _ = push.communicate(timeout=300)
    finally:
        if push.poll() is None:
            push.kill()
            push.wait()
    assert push.returncode == 0, output.decode(errors="replace")
    # The cut upload went on from where the registry said it stood.
    assert '"route": "upload-status"' in survivor.log_text()
    assert "resuming upload" in output.decode()
    pulled = tmp_path / "pulled"
    skopeo.copy(f"docker://{survivor.host}/big/app:v1", f"oci:{pulled}:v1")
    index = json.loads((pulled / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    manifest = json.loads(_blob(pulled, manifest_digest))
    # berth compresses the layers itself: compare what they unpack to, byte for byte.
    unpacked = [sha256(gzip.decompress(_blob(pulled, layer["digest"])))
                for layer in manifest["layers"]]
    assert unpacked == [layer.diff_id for layer in image.layers]


def _blob(layout: Path, digest: str) -> bytes:
    data = (layout / "blobs/sha256" / digest.removeprefix("sha256:")).read_bytes()
    assert sha256(data) == digest
    return data


def test_config_file_configures_a_replica(hub_factory, backend, tmp_path: Path):
    config = tmp_path / "berth.toml"
    config.write_text(
        f'database_url = "{backend["database"]}"\n'
        f'storage = "{backend["storage"]}"\n'
        "[s3]\n"
        f'endpoint_url = "{backend["env"]["BERTH_S3_ENDPOINT_URL"]}"\n'
        "path_style = true\n"
    )
    env = {k: v for k, v in backend["env"].items() if not k.startswith("BERTH_")}
    check = subprocess.run(
        [sys.executable, "-m", "registry", "config", "check", "--config", str(config)],
        cwd=REPO_ROOT, env=repo_env(env), capture_output=True, text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    hub = hub_factory.start(env={**env, "BERTH_CONFIG": str(config)})
    data = b"configured by file"
    status, _, _ = http("POST", f"{hub.url}/v2/conf/blobs/uploads/?digest={sha256(data)}", data)
    assert status == 201
    assert http("GET", f"{hub.url}/v2/conf/blobs/{sha256(data)}")[2] == data


def test_a_token_issued_by_one_replica_is_accepted_by_the_other(hub_factory, backend):
    """Signing keys live in the shared database, so any replica verifies any replica's token."""
    env = {"BERTH_ADMIN_PASSWORD": "admin-password-1"}
    a = start_replica(hub_factory, backend, no_auth=False, env=env)
    b = start_replica(hub_factory, backend, no_auth=False, env=env)
    status, headers, _ = http("GET", f"{b.url}/v2/")
    assert status == 401
    challenge = headers["WWW-Authenticate"]
    params = dict(part.split("=", 1) for part in challenge.removeprefix("Bearer ").split(","))
    service = params["service"].strip('"')
    basic = base64.b64encode(b"admin:admin-password-1").decode()
    query = urllib.parse.urlencode({"service": service,
                                    "scope": "repository:tokens/app:pull,push"})
    status, _, body = http("GET", f"{a.url}/token?{query}",
                           headers={"Authorization": f"Basic {basic}"})
    assert status == 200, body
    token = json.loads(body)["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    data = b"pushed to B with A's token"
    status, _, body = http("POST", f"{b.url}/v2/tokens/app/blobs/uploads/?digest={sha256(data)}",
                           data, bearer)
    assert status == 201, body
    assert http("GET", f"{b.url}/v2/tokens/app/blobs/{sha256(data)}", headers=bearer)[2] == data
    assert http("GET", f"{b.url}/v2/tokens/app/blobs/{sha256(data)}")[0] == 401


def _admin_token(hub: HubProcess, password: str) -> str:
    basic = base64.b64encode(f"admin:{password}".encode()).decode()
    query = urllib.parse.urlencode({"service": "berth", "scope": "repository:keys/app:pull"})
    status, _, body = http("GET", f"{hub.url}/token?{query}",
                           headers={"Authorization": f"Basic {basic}"})
    assert status == 200, body
    return json.loads(body)["token"]


def _kid(token: str) -> str:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def _pull_status(hub: HubProcess, token: str) -> int:
    """404 (the repository does not exist) once the token is accepted, else 401."""
    return http("GET", f"{hub.url}/v2/keys/app/tags/list",
                headers={"Authorization": f"Bearer {token}"})[0]


def test_replicas_follow_a_signing_key_rotation_and_prune(hub_factory, backend):
    """A replica restarted after `token rotate-key` signs with the new key; the other, still
    running, accepts those tokens at once and signs with the new key too; tokens of the old key
    verify everywhere until `token prune-keys` drops it."""
    password = "admin-password-1"
    env = {"BERTH_ADMIN_PASSWORD": password}
    a = start_replica(hub_factory, backend, no_auth=False, env=env)
    b = start_replica(hub_factory, backend, no_auth=False, env=env)
    old_token = _admin_token(a, password)

    def hub_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "registry", *args, "--database", backend["database"],
             "--data", str(a.data_dir)],
            cwd=REPO_ROOT, env=repo_env(backend["env"]), capture_output=True, text=True,
            timeout=120,
        )

    rotated = hub_cli("token", "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.split()[4]
    a.stop()
    a.start()
    new_token = _admin_token(a, password)
    assert _kid(new_token) == new_kid != _kid(old_token)
    assert _pull_status(b, new_token) == 404
    assert _kid(_admin_token(b, password)) == new_kid
    for hub in (a, b):
        assert _pull_status(hub, old_token) == 404

    pruned = hub_cli("token", "prune-keys", "--older-than", "0s")
    assert pruned.returncode == 0 and _kid(old_token) in pruned.stdout, pruned.stderr
    for hub in (a, b):
        hub.stop()
        hub.start()
        assert _pull_status(hub, old_token) == 401
        assert _pull_status(hub, new_token) == 404


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def test_serve_workers_share_one_port_and_stop_with_the_first(hub_factory, backend):
    hub = start_replica(hub_factory, backend, extra_args=["--workers", "3"])
    assert hub.pid is not None
    assert wait_until(lambda: len(_children(hub.pid)) == 2, 30)
    workers = _children(hub.pid)
    for pid in [hub.pid, *workers]:
        assert wait_until(lambda p=pid: listens(p, hub.port), 60), hub.log_tail()
    for _ in range(6):  # new connections each time; any worker may answer
        assert http("GET", f"{hub.url}/v2/")[0] == 200
    hub.stop()
    assert wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 20)


def test_gc_command_on_a_shared_database_and_bucket(hub_factory, backend):
    """`berth-hub gc --dry-run` lists and counts; `berth-hub gc` removes; the hub agrees."""
    hub = start_replica(hub_factory, backend)
    config, layer = b'{"architecture":"amd64","os":"linux"}', os.urandom(300_000)
    for blob in (config, layer):
        assert http("POST", f"{hub.url}/v2/gc/app/blobs/uploads/?digest={sha256(blob)}",
                    blob)[0] == 201
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha256(layer), "size": len(layer)}],
    }).encode()
    content_type = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    assert http("PUT", f"{hub.url}/v2/gc/app/manifests/v1", manifest, content_type)[0] == 201
    assert http("DELETE", f"{hub.url}/v2/gc/app/manifests/v1")[0] == 202  # untags it

    def gc(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "registry", "gc", "--database", backend["database"],
             "--storage", backend["storage"], "--grace", "0", *args],
            cwd=REPO_ROOT, env=repo_env(backend["env"]), capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    dry = gc("--dry-run")
    assert f"would remove manifest gc/app@{sha256(manifest)}" in dry
    assert f"would remove blob {sha256(layer)} ({len(layer)} bytes)" in dry
    assert f"would free {len(layer) + len(config)} bytes" in dry
    assert http("GET", f"{hub.url}/v2/gc/app/manifests/{sha256(manifest)}")[0] == 200
    done = gc()
    assert f"removed manifest gc/app@{sha256(manifest)}" in done
    assert http("GET", f"{hub.url}/v2/gc/app/manifests/{sha256(manifest)}")[0] == 404
    assert http("GET", f"{hub.url}/v2/gc/app/blobs/{sha256(layer)}")[0] == 404
