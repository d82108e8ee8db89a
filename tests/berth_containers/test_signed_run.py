"""`berth run` and `create` under a signature policy: an unsigned image does not start.

The busybox test image (pulled, so already local, and unsigned) is refused with exit 125 and
no container is made; a copy signed with `berth sign` runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.hub import HubProcess
from tests.support.skopeo import Skopeo

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_run_refuses_an_unsigned_image_and_runs_a_signed_one(
    clean: BerthCli, image: str, shared_hub: HubProcess, skopeo: Skopeo, tmp_path: Path
) -> None:
    clean("sign", "--format", "cosign", "--generate-key", str(tmp_path / "ci"))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(
        {"formats": ["cosign"], "cosign": {"keys": [(tmp_path / "ci.pub").read_text()]}}))

    for verb in ("run", "create"):
        refused = clean(verb, "--policy", str(policy), image, "true", check=False)
        assert refused.returncode == 125, refused.stderr
        assert "is not signed as the signature policy requires: cosign: no signature found" \
            in refused.stderr
        assert f"See 'berth {verb} --help'." in refused.stderr
    assert clean("ps", "-aq").stdout == ""

    signed = f"{shared_hub.host}/berth-test/signed-run:v1"
    skopeo.copy(f"docker://{image}", f"docker://{signed}")
    clean("sign", "--format", "cosign", "--key", str(tmp_path / "ci.key"), signed)
    ran = clean("run", "--rm", "--policy", str(policy), signed, "echo", "signed")
    assert ran.stdout == "signed\n"
    # By ID there is nothing to verify in a registry: refused too.
    image_id = clean("image", "inspect", "--format", "{{.Id}}", signed).stdout.strip()
    by_id = clean("run", "--rm", "--policy", str(policy), image_id, "true", check=False)
    assert by_id.returncode == 125 and "named by ID" in by_id.stderr
