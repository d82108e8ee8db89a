"""Proxy namespaces in the configuration file, sealed upstream passwords, challenges."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from registry.app import create_app
from registry.config import ConfigError, load_settings
from registry.config_check import check_settings
from registry.proxy.challenge import parse_challenge
from registry.proxy.config import ProxyNamespace
from registry.proxy.credentials import CredentialSealer, SealedCredentialError

SECRET = b"0123456789abcdef-secret"


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    config = tmp_path / "berth.toml"
    config.write_text(text)
    return load_settings(config, env={}, data_dir=tmp_path / "data")


def test_namespaces_and_ttl_from_the_file(tmp_path: Path) -> None:
    sealed = CredentialSealer(SECRET).seal("hub", "pw")
    settings = load(tmp_path, f"""
[proxy]
tag_ttl = 60

[proxy.namespaces.hub]
url = "https://registry-1.docker.io/"
username = "me"
password = "{sealed}"

[proxy.namespaces.quay]
url = "https://quay.io"
expire_days = 7
""")
    assert settings.proxy_tag_ttl == 60
    hub, quay = settings.proxy_namespaces
    assert (hub.name, hub.url, hub.username, hub.sealed_password) == (
        "hub", "https://registry-1.docker.io", "me", sealed)
    assert quay == ProxyNamespace("quay", "https://quay.io", expire_days=7.0)
    assert hub.expire_days is None  # cached content is kept until deleted
    # Docker Hub's official images live under library/.
    assert hub.upstream_repository("hub/busybox") == "library/busybox"
    assert quay.upstream_repository("quay/coreos/etcd") == "coreos/etcd"


@pytest.mark.parametrize(("table", "message"), [
    ('[proxy.namespaces.up]\nurl = "https://r.example"\nusername = "u"\npassword = "plain"',
     "must be sealed"),
    ('[proxy.namespaces.up]\nurl = "ftp://r.example"', r"wants http\(s\)://host"),
    ('[proxy.namespaces.up]\nurl = "https://r.example/v2"', r"wants http\(s\)://host"),
    ('[proxy.namespaces.up]\nurl = "https://r.example"\nusername = "u"', "go together"),
    ('[proxy.namespaces.up]\nurl = "https://r.example"\ntoken = "x"', "unknown key 'token'"),
    ('[proxy.namespaces.up]\nurl = "https://r.example"\nexpire_days = 0', "positive number"),
    ('[proxy.namespaces.up]\nurl = "https://r.example"\nexpire_days = "7d"', "positive number"),
    ('[proxy.namespaces.library]\nurl = "https://r.example"', "reserved"),
    ('[proxy.namespaces."Bad.Name"]\nurl = "https://r.example"', "invalid name"),
])
def test_mistakes_are_named(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, table)


def test_sealed_passwords_open_only_for_their_namespace_and_secret() -> None:
    sealer = CredentialSealer(SECRET)
    sealed = sealer.seal("hub", "s3cret")
    assert "s3cret" not in sealed
    assert sealer.open("hub", sealed) == "s3cret"
    with pytest.raises(SealedCredentialError):
        sealer.open("other", sealed)
    with pytest.raises(SealedCredentialError):
        CredentialSealer(b"another-secret-of-16+").open("hub", sealed)


def test_challenges_as_registries_send_them() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/busybox:pull"'
    )
    assert challenge is not None and challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://auth.docker.io/token",
                                "service": "registry.docker.io",
                                "scope": "repository:library/busybox:pull"}
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None and basic.scheme == "basic"
    assert parse_challenge("") is None


def test_a_mirror_must_name_a_proxy_namespace(tmp_path: Path) -> None:
    settings = load(
        tmp_path, '[proxy]\nmirror = "hub"\n[proxy.namespaces.quay]\nurl = "https://quay.io"'
    )
    assert settings.proxy_mirror == "hub"
    with pytest.raises(ConfigError, match="names no proxy namespace"):
        create_app(settings)


async def test_config_check_names_a_password_the_secret_does_not_open(tmp_path: Path) -> None:
    sealed = CredentialSealer(b"the-secret-it-was-sealed-with").seal("hub", "pw")
    settings = load(tmp_path, f'[proxy.namespaces.hub]\nurl = "https://r.example"\n'
                              f'username = "me"\npassword = "{sealed}"')
    other = replace(settings, trust_key_secret="another-secret-of-the-hub")
    problems = [str(problem) for problem in await check_settings(other)]
    assert any("proxy.namespaces.hub.password" in p and "does not open" in p for p in problems)
    same = replace(settings, trust_key_secret="the-secret-it-was-sealed-with")
    assert not [str(p) for p in await check_settings(same) if "proxy" in str(p)]
