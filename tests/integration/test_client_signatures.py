"""`berth sign` and the client's signature gate, against a hub process.

`berth sign` signs images in the hub in cosign's tag scheme and as Notation referrers, with
keys from `berth sign --generate-key`. The hub's own pull gate, given a policy naming those
keys, lets skopeo pull what was signed (so the formats are what the verifiers read), and the
referrers API lists the Notation signature for oras-py. Then, with no gate on the hub,
`berth pull` under the same policy file pulls the signed images and refuses (exit 1) the
unsigned one and the one signed by a key the policy does not trust.
"""

from __future__ import annotations

import json
from pathlib import Path

import oras.provider
import pytest

from tests.support.berth_cli import BerthCli
from tests.support.hub import HubProcess, run_hub_cli
from tests.support.images import BuiltImage, BuiltIndex, OciLayout
from tests.support.skopeo import Skopeo
from tests.support.upload import push_variant

pytestmark = [pytest.mark.skopeo, pytest.mark.slow]

REPO = "sig/client"
NOTATION_TYPE = "application/vnd.cncf.notary.signature"


def hub_admin(hub: HubProcess, *args: str) -> str:
    result = run_hub_cli(hub, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def client_policy(keys: Path, host: str) -> dict[str, object]:
    """The policy file both the hub and `berth` read: the cosign key and the Notation cert."""
    return {
        "formats": ["cosign", "notation"],
        "cosign": {"keys": [(keys / "cosign.pub").read_text()]},
        "notation": {
            "trustPolicy": {"version": "1.0", "trustPolicies": [{
                "name": "client", "registryScopes": [f"{host}/{REPO}"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:berth"],
                "trustedIdentities": ["x509.subject: C=US, ST=WA, O=berth, CN=ci"]}]},
            "trustStores": {"ca:berth": {"certificates": (keys / "notation.crt").read_text()}},
        },
    }


def test_berth_signs_and_pulls_only_what_the_policy_trusts(
    tmp_path: Path, hub: HubProcess, skopeo: Skopeo, built_image: BuiltImage
) -> None:
    berth = BerthCli(tmp_path / "root")
    keys = tmp_path / "keys"
    keys.mkdir()
    made = berth("sign", "--format", "cosign", "--generate-key", str(keys / "cosign")).stdout
    assert made.split() == [str(keys / "cosign.key"), str(keys / "cosign.pub")]
    berth("sign", "--format", "cosign", "--generate-key", str(keys / "stranger"))
    berth("sign", "--format", "notation", "--generate-key", str(keys / "notation"),
          "--subject", "ci")
    assert (keys / "cosign.key").stat().st_mode & 0o077 == 0
    refused = berth("sign", "--format", "cosign", "--generate-key", str(keys / "cosign"),
                    check=False)
    assert refused.returncode == 125 and "not overwriting" in refused.stderr

    images = {tag: push_variant(hub.url, REPO, tag, built_image)
              for tag in ("cosign", "notation", "unsigned", "stranger")}
    ref = f"{hub.host}/{REPO}"
    signed = berth("sign", "--format", "cosign", "--key", str(keys / "cosign.key"),
                   "-a", "team=blue", f"{ref}:cosign").stdout
    assert f"{ref}:cosign@{images['cosign'][0]} (cosign)" in signed
    berth("sign", "--format", "notation", "--key", str(keys / "notation.key"),
          "--cert", str(keys / "notation.crt"), f"{ref}:notation")
    berth("sign", "--format", "cosign", "--key", str(keys / "stranger.key"), f"{ref}:stranger")
    missing = berth("sign", "--format", "notation", "--key", str(keys / "notation.key"),
                    f"{ref}:notation", check=False)
    assert missing.returncode == 125 and "--cert" in missing.stderr

    # oras-py (the oras CLI is not packaged here) reads the Notation signature as a referrer.
    registry = oras.provider.Registry(hostname=hub.host, insecure=True)
    listed = registry.do_request(
        f"http://{hub.host}/v2/{REPO}/referrers/{images['notation'][0]}").json()
    (referrer,) = listed["manifests"]
    assert referrer["artifactType"] == NOTATION_TYPE
    signature = registry.get_manifest(f"{ref}@{referrer['digest']}")
    assert signature["subject"]["digest"] == images["notation"][0]
    assert signature["layers"][0]["mediaType"] == "application/jose+json"

    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(client_policy(keys, hub.host)))

    # The hub's own gate accepts what berth signed: the formats are right.
    hub_admin(hub, "repo", "policy", REPO, "--file", str(policy_file))
    hub_admin(hub, "repo", "trust-required", REPO, "on")
    for tag in ("cosign", "notation"):
        skopeo.copy(f"docker://{ref}:{tag}", f"oci:{tmp_path / tag}:{tag}")
    for tag in ("unsigned", "stranger"):
        gated = skopeo.copy(f"docker://{ref}:{tag}", f"oci:{tmp_path / tag}:x", check=False)
        assert gated.returncode != 0 and "signature required" in gated.stderr, tag
    # berth without a policy of its own: the hub's gate alone decides, as for skopeo.
    plain = BerthCli(tmp_path / "plain-root")
    for tag in ("cosign", "notation"):
        plain("pull", f"{ref}:{tag}")
    for tag in ("unsigned", "stranger"):
        gated = plain("pull", f"{ref}:{tag}", check=False)
        assert gated.returncode != 0 and "signature required" in gated.stderr, (tag, gated.stderr)

    # The client alone, with the hub's gate off.
    hub_admin(hub, "repo", "trust-required", REPO, "off")
    for tag in ("cosign", "notation"):
        pulled = berth("pull", "--policy", str(policy_file), f"{ref}:{tag}")
        assert pulled.stdout == f"{ref}:{tag}\n"
        assert f"Verified signatures of {ref}:{tag}@{images[tag][0]}" in pulled.stderr
    (inspected,) = json.loads(berth("image", "inspect", f"{ref}:cosign").stdout)
    assert f"{ref}@{images['cosign'][0]}" in inspected["RepoDigests"]
    for tag, why in (("unsigned", "cosign: no signature found; notation: no signature found"),
                     ("stranger", "not verified by any trusted key")):
        refused = berth("pull", "--policy", str(policy_file), f"{ref}:{tag}", check=False)
        assert refused.returncode == 1, refused.stderr
        assert "is not signed as the signature policy requires" in refused.stderr
        assert why in refused.stderr, refused.stderr
        assert f":{tag} " not in berth("images", "--format", "{{.Tag}} ").stdout
    # One format only: the cosign-signed image is not Notation-signed.
    only = berth("pull", "--policy", str(policy_file), "--verify", "notation", f"{ref}:cosign",
                 check=False)
    assert only.returncode == 1 and "notation: no signature found" in only.stderr
    # The default policy file is <root>/policy.json; --verify none turns it off.
    (berth.root / "policy.json").write_text(policy_file.read_text())
    assert berth("pull", f"{ref}:unsigned", check=False).returncode == 1
    berth("pull", "--verify", "none", f"{ref}:unsigned")
    by_digest = berth("pull", f"{ref}@{images['notation'][0]}")
    assert by_digest.returncode == 0


def test_an_index_counts_when_every_platform_is_signed_if_the_policy_allows(
    tmp_path: Path, hub: HubProcess, skopeo: Skopeo, multiarch_layout: OciLayout,
    multiarch_index: BuiltIndex,
) -> None:
    berth = BerthCli(tmp_path / "root")
    berth("sign", "--format", "cosign", "--generate-key", str(tmp_path / "ci"))
    ref = f"{hub.host}/sig/index"
    skopeo.run("copy", "--dest-tls-verify=false", "--all", multiarch_layout.reference,
               f"docker://{ref}:multi")
    amd64, arm64 = multiarch_index.images
    key = (tmp_path / "ci.pub").read_text()
    per_platform = tmp_path / "platforms.json"
    per_platform.write_text(json.dumps(
        {"formats": ["cosign"], "cosign": {"keys": [key]}, "platforms": True}))
    index_only = tmp_path / "index.json"
    index_only.write_text(json.dumps({"formats": ["cosign"], "cosign": {"keys": [key]}}))

    berth("sign", "--format", "cosign", "--key", str(tmp_path / "ci.key"),
          f"{ref}@{amd64.manifest_digest}")
    half = berth("pull", "--policy", str(per_platform), f"{ref}:multi", check=False)
    assert half.returncode == 1 and "not every platform manifest is signed" in half.stderr
    berth("sign", "--format", "cosign", "--key", str(tmp_path / "ci.key"),
          f"{ref}@{arm64.manifest_digest}")
    berth("pull", "--policy", str(per_platform), f"{ref}:multi")
    refused = berth("pull", "--policy", str(index_only), f"{ref}:multi", check=False)
    assert refused.returncode == 1
    assert f"image {multiarch_index.digest} is not signed" in refused.stderr
    # Signing the index itself satisfies either policy.
    berth("sign", "--format", "cosign", "--key", str(tmp_path / "ci.key"), f"{ref}:multi")
    berth("pull", "--policy", str(index_only), f"{ref}:multi")
