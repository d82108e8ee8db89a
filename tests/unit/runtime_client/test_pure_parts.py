"""Pure parts of berth: names, platforms, challenges, --change, human sizes and ages."""

from __future__ import annotations

import json
import stat

import pytest

from runtime_client.distribution.auth import parse_challenge
from runtime_client.distribution.credentials import Credentials, CredentialStore
from runtime_client.distribution.platforms import Platform
from runtime_client.errors import InvalidReferenceError, UsageError
from runtime_client.humanize import binary_size, human_duration, human_size
from runtime_client.images.changes import apply_changes
from runtime_client.images.naming import familiar, parse_reference


@pytest.mark.parametrize(
    ("typed", "default", "canonical", "shown"),
    [
        ("busybox", "docker.io", "docker.io/library/busybox:latest", "busybox:latest"),
        ("team/app:1", "docker.io", "docker.io/team/app:1", "team/app:1"),
        ("app", "hub.test:5000", "hub.test:5000/app:latest", "app:latest"),
        ("localhost/app:2", "docker.io", "localhost/app:2", "localhost/app:2"),
        ("127.0.0.1:5000/a/b:c", "docker.io", "127.0.0.1:5000/a/b:c", "127.0.0.1:5000/a/b:c"),
    ],
)
def test_reference_canonical_and_familiar(typed: str, default: str, canonical: str,
                                          shown: str) -> None:
    assert str(parse_reference(typed, default)) == canonical
    assert familiar(canonical, default) == shown


def test_invalid_references() -> None:
    for bad in ("Upper/Case", "a b", "", "app:bad tag"):
        with pytest.raises(InvalidReferenceError):
            parse_reference(bad, "docker.io")


def test_platform_parse_and_match() -> None:
    assert str(Platform.parse("linux/arm64/v8")) == "linux/arm64/v8"
    assert Platform.parse("x86_64") == Platform("linux", "amd64")
    arm = Platform.parse("linux/arm64/v8")
    assert arm.matches({"os": "linux", "architecture": "arm64"})  # v8 is arm64's default
    assert not arm.matches({"os": "linux", "architecture": "amd64"})
    assert not Platform.parse("linux/arm/v7").matches(
        {"os": "linux", "architecture": "arm", "variant": "v6"})
    with pytest.raises(UsageError):
        Platform.parse("a/b/c/d")


def test_challenge_parsing() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:team/app:pull,push"'
    )
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://auth.example/token",
                                "service": "registry.example",
                                "scope": "repository:team/app:pull,push"}
    assert parse_challenge('Basic realm="x"').scheme == "basic"


def test_credentials_file_is_dockers_format_and_private(tmp_path) -> None:
    path = tmp_path / "docker" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"auths": {"other:1": {"auth": "eDp5"}}, "psFormat": "x"}))
    store = CredentialStore(path)
    store.save("hub.test:5000", Credentials("alice", "p:ss"))
    data = json.loads(path.read_text())
    assert data["psFormat"] == "x" and "other:1" in data["auths"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.get("hub.test:5000") == Credentials("alice", "p:ss")
    assert store.get("https://hub.test:5000/v2/") == Credentials("alice", "p:ss")
    store.save("docker.io", Credentials("bob", "x"))
    assert "https://index.docker.io/v1/" in json.loads(path.read_text())["auths"]
    assert store.erase("hub.test:5000") and not store.erase("hub.test:5000")
    assert store.get("hub.test:5000") is None


def test_changes() -> None:
    config = {"config": {"Env": ["PATH=/bin", "A=1"]}}
    changed = apply_changes(config, [
        'CMD ["nginx", "-g", "daemon off;"]', "ENTRYPOINT /start.sh", "ENV A=2 B=three",
        "ENV LEGACY some value", "EXPOSE 80 53/udp", 'LABEL a=b "c d"=e', "USER app",
        "WORKDIR /srv", "VOLUME /data", "STOPSIGNAL SIGTERM",
    ])
    c = changed["config"]
    assert c["Cmd"] == ["nginx", "-g", "daemon off;"]
    assert c["Entrypoint"] == ["/bin/sh", "-c", "/start.sh"]
    assert c["Env"] == ["PATH=/bin", "A=2", "B=three", "LEGACY=some value"]
    assert c["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert c["Labels"] == {"a": "b", "c d": "e"}
    assert (c["User"], c["WorkingDir"], c["StopSignal"]) == ("app", "/srv", "SIGTERM")
    assert c["Volumes"] == {"/data": {}}
    assert config["config"]["Env"] == ["PATH=/bin", "A=1"]  # input untouched
    with pytest.raises(UsageError):
        apply_changes(config, ["RUN rm -rf /"])


def test_changes_follow_the_dockerfile_forms() -> None:
    config = {"config": {"Env": ["A=1", "B=2"]}}
    c = apply_changes(config, [
        "ENV A=3", "ENV C 4", 'CMD ["unclosed"', "ENTRYPOINT [1, 2]",
        'VOLUME ["/a", "/b c"]', "VOLUME [/d /e",
    ])["config"]
    assert c["Env"] == ["A=3", "B=2", "C=4"]  # replaced where it stands, as Docker does
    assert c["Cmd"] == ["/bin/sh", "-c", '["unclosed"']  # not a JSON array: shell form
    assert c["Entrypoint"] == ["/bin/sh", "-c", "[1, 2]"]
    assert c["Volumes"] == {"/a": {}, "/b c": {}, "[/d": {}, "/e": {}}
    for bad in ("ENV", "LABEL", "LABEL =x", "ENV A=1 B"):
        with pytest.raises(UsageError):
            apply_changes(config, [bad])


def test_human_size_and_duration() -> None:
    assert human_size(4_260_000) == "4.26MB"
    assert human_size(999) == "999B"
    assert human_size(14_500) == "14.5kB"
    assert binary_size(1536 * 1024) == "1.5MiB"
    assert binary_size(1023) == "1023B"
    assert binary_size(3 * 1024**4 + 10**11) == "3.091TiB"
    assert human_duration(0.5) == "Less than a second"
    assert human_duration(90) == "About a minute"
    assert human_duration(3 * 3600) == "3 hours"
    assert human_duration(3 * 7 * 86400) == "3 weeks"
    assert human_duration(3 * 365 * 86400) == "3 years"
