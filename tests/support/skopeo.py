"""Run skopeo against test hubs: plain http, anonymous, with a permissive trust policy."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support.commands import run_command

__all__ = ["Skopeo", "SkopeoUnavailableError"]

POLICY = {"default": [{"type": "insecureAcceptAnything"}]}


class SkopeoUnavailableError(RuntimeError):
    """The skopeo CLI is not installed."""


class Skopeo:
    """The skopeo CLI with a private policy file and no credentials or TLS checks.

    Args:
        workdir: a directory for the policy file and skopeo's temporary files.
    """

    def __init__(self, workdir: Path) -> None:
        executable = shutil.which("skopeo")
        if executable is None:
            raise SkopeoUnavailableError("skopeo is not installed")
        self.executable = executable
        workdir.mkdir(parents=True, exist_ok=True)
        self.policy = workdir / "policy.json"
        self.policy.write_text(json.dumps(POLICY))
        self.tmpdir = workdir / "tmp"
        self.tmpdir.mkdir(exist_ok=True)

    def run(self, *args: str, check: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run `skopeo --policy POLICY ARGS...`.

        Raises:
            CommandError: when `check` and skopeo fails.
        """
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "TMPDIR": str(self.tmpdir), "HOME": str(self.tmpdir)}
        return run_command([self.executable, "--policy", str(self.policy), *args], env=env,
                           check=check, timeout=timeout)

    def copy(self, source: str, destination: str, *options: str,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        """`skopeo copy` between two image names (`oci:DIR:TAG`, `docker://HOST/NAME:TAG`)."""
        return self.run("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                        *_no_creds("--src-no-creds", source),
                        *_no_creds("--dest-no-creds", destination),
                        *options, source, destination, check=check)

    def inspect(self, image: str, *, raw: bool = False, config: bool = False,
                check: bool = True) -> subprocess.CompletedProcess[str]:
        """`skopeo inspect` an image (`--raw` for the manifest bytes, `--config` for config)."""
        options = [*(["--raw"] if raw else []), *(["--config"] if config else [])]
        return self.run("inspect", "--tls-verify=false", *_no_creds("--no-creds", image),
                        *options, image, check=check)

    def inspect_json(self, image: str, **kwargs: Any) -> Any:
        """The parsed JSON that `skopeo inspect` prints."""
        return json.loads(self.inspect(image, **kwargs).stdout)

    def list_tags(self, repository: str) -> list[str]:
        """`skopeo list-tags docker://HOST/NAME`: the tags the registry lists."""
        result = self.run("list-tags", "--tls-verify=false", "--no-creds", repository)
        return list(json.loads(result.stdout)["Tags"])

    def delete(self, image: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`skopeo delete docker://HOST/NAME:TAG` (deletes the manifest the tag points at)."""
        return self.run("delete", "--tls-verify=false", "--no-creds", image, check=check)


def _no_creds(option: str, image: str) -> list[str]:
    # The no-creds options only exist for registry transports.
    return [option] if image.startswith("docker://") else []
