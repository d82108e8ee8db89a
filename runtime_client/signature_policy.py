"""Which signatures `berth pull`, `run` and `create` require: the policy file and `--verify`.

The policy file is the hub's signature policy document (`trust.sigs.policy`: formats, cosign
keys and keyless trust roots, the Notation trust policy and trust stores, `platforms`), so one
file serves `berth-hub repo policy --file` and the client. It is looked for at, first match:
`--policy FILE`, `$BERTH_SIGNATURE_POLICY`, `<root>/policy.json`.

`--verify` chooses what is checked:

* `policy`: every format the policy file lists (the default when a policy file exists);
* `cosign`, `notation`: only that format, with the policy file's keys or trust store;
* `dct`: Docker Content Trust only, as `DOCKER_CONTENT_TRUST=1` (no policy file needed);
* `none`: nothing, not even Docker Content Trust.

Without `--verify` and without a policy file, only `DOCKER_CONTENT_TRUST` applies, as before.

Scope: reading the file and choosing; verification is `runtime_client.ops.verify`'s.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime_client.errors import UsageError

if TYPE_CHECKING:
    from runtime_client.config import ClientConfig
    from trust.sigs.policy import SignaturePolicy

__all__ = [
    "POLICY_FILE",
    "VERIFY_MODES",
    "PolicyFileError",
    "Verification",
    "policy_path",
    "read_policy",
    "resolve_verification",
]

logger = logging.getLogger(__name__)

POLICY_FILE = "policy.json"
VERIFY_MODES = ("policy", "cosign", "notation", "dct", "none")


class PolicyFileError(UsageError):
    """The signature policy file is missing, not JSON, or not a valid policy."""


@dataclass(frozen=True)
class Verification:
    """What one command verifies.

    Attributes:
        policy: the signature policy images must satisfy (None: none).
        content_trust: resolve tags through Docker Content Trust first (as today).
    """

    policy: SignaturePolicy | None = None
    content_trust: bool = False

    @property
    def active(self) -> bool:
        return self.policy is not None or self.content_trust


def policy_path(config: ClientConfig, env: Mapping[str, str], flag: str | None) -> Path:
    """Where the policy file is (it may not exist)."""
    if flag:
        return Path(flag)
    configured = env.get("BERTH_SIGNATURE_POLICY")
    return Path(configured) if configured else config.root / POLICY_FILE


def read_policy(path: Path, only: str | None = None) -> SignaturePolicy:
    """Load the policy file, keeping only format `only` when given.

    Raises:
        PolicyFileError: unreadable, not JSON, not a valid policy, or without `only`'s
            material.
    """
    try:
        document: Any = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise PolicyFileError(f"no signature policy file at {path}") from exc
    except (OSError, ValueError) as exc:
        raise PolicyFileError(f"cannot read signature policy file {path}: {exc}") from exc
    # The verifiers (and cryptography) load only when a policy file is read: a `berth run`
    # without one does not pay for them.
    from trust.sigs.errors import TrustPolicyError
    from trust.sigs.policy import SignaturePolicy

    if only is not None and isinstance(document, dict):
        document = {**document, "formats": [only]}
    try:
        return SignaturePolicy.from_dict(document)
    except TrustPolicyError as exc:
        raise PolicyFileError(f"signature policy file {path}: {exc}") from exc


def resolve_verification(config: ClientConfig, env: Mapping[str, str], verify: str | None,
                         policy_flag: str | None, content_trust: bool) -> Verification:
    """What to verify, from `--verify`, `--policy` and Docker Content Trust's setting.

    Args:
        config: the client configuration (its root holds the default policy file).
        env: the environment (`BERTH_SIGNATURE_POLICY`).
        verify: the `--verify` value, or None.
        policy_flag: the `--policy` value, or None.
        content_trust: whether Docker Content Trust is on (flag or environment).

    Raises:
        PolicyFileError: the policy file is needed and missing or invalid.
        UsageError: an unknown `--verify` mode.
    """
    if verify is not None and verify not in VERIFY_MODES:
        raise UsageError(f"--verify must be one of {', '.join(VERIFY_MODES)}, not {verify!r}")
    path = policy_path(config, env, policy_flag)
    if verify == "none":
        return Verification()
    if verify == "dct":
        return Verification(content_trust=True)
    if verify in ("cosign", "notation"):
        return Verification(read_policy(path, only=verify), content_trust)
    if verify == "policy" or policy_flag or path.exists():
        return Verification(read_policy(path), content_trust)
    return Verification(content_trust=content_trust)
