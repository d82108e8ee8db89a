"""The client's policy file and `--verify` (`runtime_client.signature_policy`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime_client.config import ClientConfig
from runtime_client.errors import UsageError
from runtime_client.signature_policy import (
    PolicyFileError,
    policy_path,
    read_policy,
    resolve_verification,
)
from trust.sigs.signing import generate_key, public_pem

KEY = public_pem(generate_key()).decode()
COSIGN_ONLY = {"formats": ["cosign"], "cosign": {"keys": [KEY]}}
BOTH = {
    "formats": ["cosign", "dct"],
    "cosign": {"keys": [KEY]},
    "platforms": True,
}


@pytest.fixture
def config(tmp_path: Path) -> ClientConfig:
    return ClientConfig(tmp_path / "root")


def write(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def test_the_flag_wins_then_the_environment_then_the_root(config: ClientConfig) -> None:
    env = {"BERTH_SIGNATURE_POLICY": "/etc/berth/policy.json"}
    assert policy_path(config, env, "/tmp/p.json") == Path("/tmp/p.json")
    assert policy_path(config, env, None) == Path("/etc/berth/policy.json")
    assert policy_path(config, {}, None) == config.root / "policy.json"


def test_the_hubs_policy_document_is_the_file(tmp_path: Path) -> None:
    policy = read_policy(write(tmp_path / "p.json", BOTH))
    assert policy.formats == {"cosign", "dct"}
    assert policy.platforms is True
    assert len(policy.cosign_keys) == 1


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "cannot read signature policy file"),
    (json.dumps({"formats": ["pgp"]}), "formats must be a non-empty list"),
    (json.dumps({**COSIGN_ONLY, "extra": 1}), "unknown signature policy fields"),
    (json.dumps({"formats": ["cosign"]}), r"needs cosign\.keys"),
    (json.dumps({"formats": ["cosign"], "cosign": {"keys": ["not a key"]}}), r"cosign\.keys"),
    (json.dumps({"formats": ["notation"]}), r"needs notation\.trustPolicy"),
])
def test_bad_policy_files_are_refused_with_the_reason(tmp_path: Path, content: str,
                                                      message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(PolicyFileError, match=message) as caught:
        read_policy(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="no signature policy file at"):
        read_policy(tmp_path / "absent.json")


def test_without_a_file_or_flag_only_content_trust_applies(config: ClientConfig) -> None:
    assert not resolve_verification(config, {}, None, None, False).active
    verification = resolve_verification(config, {}, None, None, True)
    assert verification.policy is None and verification.content_trust


def test_a_policy_file_in_the_root_applies_by_default(config: ClientConfig) -> None:
    write(config.root / "policy.json", COSIGN_ONLY)
    verification = resolve_verification(config, {}, None, None, False)
    assert verification.policy is not None and verification.policy.formats == {"cosign"}


def test_verify_modes(config: ClientConfig, tmp_path: Path) -> None:
    path = str(write(tmp_path / "p.json", BOTH))
    none = resolve_verification(config, {}, "none", path, True)
    assert none.policy is None and not none.content_trust
    dct = resolve_verification(config, {}, "dct", None, False)
    assert dct.policy is None and dct.content_trust
    cosign = resolve_verification(config, {}, "cosign", path, False)
    assert cosign.policy is not None and cosign.policy.formats == {"cosign"}
    assert cosign.policy.platforms is True
    with pytest.raises(PolicyFileError, match=r"needs notation\.trustPolicy"):
        resolve_verification(config, {}, "notation", path, False)
    with pytest.raises(PolicyFileError, match="no signature policy file"):
        resolve_verification(config, {}, "policy", None, False)
    with pytest.raises(UsageError, match="--verify must be one of"):
        resolve_verification(config, {}, "pgp", path, False)
