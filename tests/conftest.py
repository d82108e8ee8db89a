"""Fixtures shared by the whole suite: hub processes, test images, dockerd and skopeo.

- `hub`: a fresh hub (`--no-auth`) with its own data directory, for one test.
- `hub_factory`: start more hubs in one test (`hub_factory.start(data_dir=...)`).
- `shared_hub`: one hub for the whole session, for tests that mostly read; use repository
  names unique to the test.
- `built_image`, `multiarch_index`: the busybox test images (`tests.support.images`).
- `oci_layout`, `multiarch_layout`: those images as OCI layout directories (for skopeo).
- `docker_archive`: the single-platform image as a `docker load` archive tagged
  `DOCKER_ARCHIVE_TAG`.
- `dockerd`: a Docker daemon (the running one, or a private one started here).
- `reference_registry`: Debian's docker-registry, open, for the whole session.
- `skopeo`: the skopeo CLI set up for plain-http, anonymous use.
- `tls_files`: a development CA and a server certificate for 127.0.0.1 (`HubProcess(tls=...)`).
- `s3_server`: a moto S3 server process (HTTP on loopback) for the session.
- `postgres`: a PostgreSQL 15 cluster for the session; `create_database()` per test.

When a test fails, the logs of the hubs it used are added to its report.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from registry.tlscerts import DevCertificates, make_dev_certificates
from tests.support.dockerd import DockerDaemon, DockerUnavailableError
from tests.support.hub import HubProcess, HubSet
from tests.support.images import (
    DOCKER_ARCHIVE_TAG,
    BuiltImage,
    BuiltIndex,
    OciLayout,
    build_image,
    build_multiarch_index,
    write_docker_archive,
    write_oci_layout,
)
from tests.support.postgres import PostgresCluster, PostgresUnavailableError
from tests.support.reference_registry import (
    ReferenceRegistry,
    ReferenceRegistryUnavailableError,
)
from tests.support.s3server import S3_CREDENTIALS, S3Server, S3ServerError
from tests.support.skopeo import Skopeo, SkopeoUnavailableError


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    """A running hub with an empty data directory of its own."""
    process = HubProcess(tmp_path / "hub-data", tmp_path / "hub.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def hub_factory(tmp_path: Path) -> Iterator[HubSet]:
    """Start any number of hubs in one test; all are stopped when it ends."""
    hubs = HubSet(tmp_path / "hubs")
    try:
        yield hubs
    finally:
        hubs.stop_all()


@pytest.fixture(scope="session")
def shared_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One hub for the whole session."""
    workdir = tmp_path_factory.mktemp("shared-hub")
    process = HubProcess(workdir / "data", workdir / "hub.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def built_image() -> BuiltImage:
    """The three-layer linux/amd64 busybox image."""
    return build_image("amd64")


@pytest.fixture(scope="session")
def multiarch_index(built_image: BuiltImage) -> BuiltIndex:
    """An OCI index over the amd64 image and an arm64 sibling."""
    return build_multiarch_index(built_image)


@pytest.fixture(scope="session")
def oci_layout(tmp_path_factory: pytest.TempPathFactory, built_image: BuiltImage) -> OciLayout:
    """The single-platform image as an OCI layout, tag `v1`."""
    return write_oci_layout(tmp_path_factory.mktemp("oci-image"), "v1", built_image)


@pytest.fixture(scope="session")
def multiarch_layout(
    tmp_path_factory: pytest.TempPathFactory, multiarch_index: BuiltIndex
) -> OciLayout:
    """The multi-architecture index as an OCI layout, tag `multi`."""
    return write_oci_layout(tmp_path_factory.mktemp("oci-multiarch"), "multi", multiarch_index)


@pytest.fixture(scope="session")
def docker_archive(tmp_path_factory: pytest.TempPathFactory, built_image: BuiltImage) -> Path:
    """The single-platform image as a `docker save` archive tagged `DOCKER_ARCHIVE_TAG`."""
    path = tmp_path_factory.mktemp("docker-archive") / "busybox.tar"
    return write_docker_archive(path, built_image, DOCKER_ARCHIVE_TAG)


@pytest.fixture(scope="session")
def dockerd() -> Iterator[DockerDaemon]:
    """A Docker daemon: the running one, else a private dockerd stopped at session end."""
    daemon = DockerDaemon.existing()
    if daemon is None:
        try:
            daemon = DockerDaemon.start()
        except DockerUnavailableError as error:
            pytest.skip(f"no Docker daemon: {error}")
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def reference_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceRegistry]:
    """Debian's docker-registry (Distribution 2.8) on a free port, for the whole session."""
    registry = ReferenceRegistry(tmp_path_factory.mktemp("reference-registry"))
    try:
        registry.start()
    except ReferenceRegistryUnavailableError as error:
        pytest.skip(str(error))
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def skopeo(tmp_path_factory: pytest.TempPathFactory) -> Skopeo:
    """The skopeo CLI with a permissive policy, no credentials and no TLS verification."""
    try:
        return Skopeo(tmp_path_factory.mktemp("skopeo"))
    except SkopeoUnavailableError as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> DevCertificates:
    """A development CA and the server certificate it signed, for 127.0.0.1 and localhost."""
    return make_dev_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A moto S3 server for the session; the test process gets its credentials in env."""
    server = S3Server(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        server.start()
    except S3ServerError as error:
        pytest.fail(str(error))
    saved = {key: os.environ.get(key) for key in S3_CREDENTIALS}
    os.environ.update(S3_CREDENTIALS)
    try:
        yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster for the session, removed at the end even after failures."""
    try:
        cluster = PostgresCluster()
        cluster.start()
    except PostgresUnavailableError as error:
        pytest.skip(str(error))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the logs of the hubs (and private dockerd) a failed test used to its report."""
    report: pytest.TestReport = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            hubs = value.hubs if isinstance(value, HubSet) else [value]
            for one in hubs:
                if isinstance(one, HubProcess):
                    report.sections.append((f"hub {one.host} log", one.log_tail(100)))
                elif isinstance(one, DockerDaemon) and one.started_here:
                    report.sections.append(("dockerd log", one.log_tail()))
    return report
