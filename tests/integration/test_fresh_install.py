"""A new user's first commands, in a virtual environment holding nothing but `pip install .`.

Everything the hub and the client import must be a declared dependency, and every module and
package-data file must be in the wheel: this installs the checkout the way the README says and
runs it from that installation, away from the source tree.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub import REPO_ROOT
from tests.support.ports import free_port, http_status, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                    str(REPO_ROOT)], check=True, cwd=venv.parent, env=_clean_env())
    yield venv


def _clean_env() -> dict[str, str]:
    """The caller's environment without anything that would reach the source tree."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "BERTH_", "VIRTUAL_ENV"))}


def test_pip_check_is_clean(fresh_venv: Path) -> None:
    result = subprocess.run([str(fresh_venv / "bin" / "pip"), "check"],
                            capture_output=True, text=True, env=_clean_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_imports_from_the_installation(fresh_venv: Path) -> None:
    result = subprocess.run(
        [str(fresh_venv / "bin" / "python"), "-I", str(REPO_ROOT / "scripts" / "importcheck.py"),
         str(REPO_ROOT)],
        capture_output=True, text=True, cwd=fresh_venv, env=_clean_env())
    assert result.returncode == 0, result.stderr


def test_berth_help_runs(fresh_venv: Path) -> None:
    result = subprocess.run([str(fresh_venv / "bin" / "berth"), "--help"],
                            capture_output=True, text=True, cwd=fresh_venv, env=_clean_env())
    assert result.returncode == 0, result.stderr
    assert "pull" in result.stdout and "run" in result.stdout


def test_hub_serves_and_prints_the_admin_password(fresh_venv: Path, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(fresh_venv / "bin" / "berth-hub"), "serve", "--listen", f"127.0.0.1:{port}",
             "--data", str(tmp_path / "data")],
            stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path, env=_clean_env())
    try:
        answered = wait_until(lambda: http_status(f"http://127.0.0.1:{port}/v2/") == 401, 60)
        assert answered, log.read_text()
        printed = re.search(r"account 'admin' with password: (\S+)", log.read_text())
        assert printed, log.read_text()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v2/")
        secret = base64.b64encode(f"admin:{printed.group(1)}".encode()).decode()
        request.add_header("Authorization", f"Basic {secret}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        # The web interface's templates and assets are package data of the wheel.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as answer:
            page = answer.read().decode()
        assert "<h1>Sign in</h1>" in page
        for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', page):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{asset}", timeout=10) as answer:
                assert answer.status == 200 and answer.read()
    finally:
        process.terminate()
        process.wait(timeout=20)
