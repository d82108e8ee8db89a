"""`create --network container:NAME|ID`: the flags dockerd refuses with it, through the real
CLI entry point (refused before any container exists), and the mode's parsing."""

from __future__ import annotations

import io

import pytest

from runtime_client.cli.main import run
from runtime_client.container_errors import InvalidOptionError
from runtime_client.network.shared import is_container_mode, target_ref
from tests.unit.runtime_client.test_cli_images import (
    REGISTRY,
    Berth,
    berth,  # noqa: F401
)

IMAGE = f"{REGISTRY}/team/app:1"


class BinaryBerth(Berth):
    """The CLI with binary-backed streams, as `run` writes the container's output."""

    def __call__(self, *argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        out, err = io.TextIOWrapper(io.BytesIO()), io.TextIOWrapper(io.BytesIO())
        code = run(["--root", str(self.root), *argv], stdin=io.BytesIO(stdin), stdout=out,
                   stderr=err, env=self.env)
        texts = []
        for stream in (out, err):
            stream.flush()
            texts.append(stream.buffer.getvalue().decode())  # type: ignore[attr-defined]
        return code, texts[0], texts[1]


@pytest.fixture
def cli(berth: Berth) -> BinaryBerth:  # noqa: F811
    return BinaryBerth(berth.root)


@pytest.mark.parametrize(("flags", "message"), [
    (["--hostname", "h"], "conflicting options: hostname and the network mode"),
    (["--dns", "1.1.1.1"], "conflicting options: dns and the network mode"),
    (["--add-host", "a:1.2.3.4"],
     "conflicting options: custom host-to-IP mapping and the network mode"),
    (["--mac-address", "02:42:ac:11:00:09"],
     "conflicting options: mac-address and the network mode"),
    (["-p", "8080:80"],
     "conflicting options: port publishing and the container type network mode"),
    (["-P"], "conflicting options: port publishing and the container type network mode"),
    (["--expose", "80"],
     "conflicting options: port exposing and the container type network mode"),
    # dockerd checks in this order: the hostname before the ports
    (["-p", "80", "--hostname", "h"], "conflicting options: hostname and the network mode"),
], ids=["hostname", "dns", "add-host", "mac", "publish", "publish-all", "expose", "order"])
@pytest.mark.parametrize("verb", ["create", "run"])
def test_conflicting_flags_are_refused_as_dockerd_does(cli: BinaryBerth, verb: str,
                                                       flags: list[str], message: str) -> None:
    code, out, err = cli(verb, "--network", "container:web", *flags, IMAGE, "true")
    assert code == 125
    assert err.startswith(f"berth: Error response from daemon: {message}\n")
    assert out == ""
    assert cli("ps", "-aq")[1] == ""


def test_network_aliases_are_refused_as_the_docker_cli_does(cli: BinaryBerth) -> None:
    code, _, err = cli("run", "--net", "container:web", "--network-alias", "a", IMAGE, "true")
    assert code == 125
    assert "network-scoped aliases are only supported for user-defined networks" in err
    assert "Error response from daemon" not in err


@pytest.mark.parametrize("mode", ["container", "container:"])
def test_a_mode_without_a_target_is_refused(cli: BinaryBerth, mode: str) -> None:
    code, _, err = cli("create", "--net", mode, IMAGE, "true")
    assert code == 125
    assert "Invalid network mode: invalid container format container:<name|id>" in err


def test_mode_parsing() -> None:
    assert is_container_mode("container:web")
    assert is_container_mode("container")
    assert not is_container_mode("containers")
    assert not is_container_mode("bridge")
    assert not is_container_mode("host")
    assert target_ref("container:0123abcd") == "0123abcd"
    with pytest.raises(InvalidOptionError):
        target_ref("container:")
