"""Settings from a TOML file, the environment and flags; `config check`; the `gc` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from registry.config import ConfigError, load_settings
from tests.support.hub import REPO_ROOT, repo_env


def test_file_then_env_then_flags(tmp_path: Path):
    config = tmp_path / "berth.toml"
    config.write_text(
        'listen = "0.0.0.0:6000"\nstorage = "s3://bucket/prefix"\ngc_grace = 600\n'
        '[s3]\nregion = "eu-west-1"\nredirect = true\n'
    )
    settings = load_settings(config, env={"BERTH_S3_REGION": "us-east-2"}, data_dir=tmp_path)
    assert (settings.listen_host, settings.listen_port) == ("0.0.0.0", 6000)
    assert settings.storage_url == "s3://bucket/prefix"
    assert settings.s3_region == "us-east-2"  # the environment beats the file
    assert settings.s3_redirect is True
    assert settings.gc_grace == 600.0
    flagged = load_settings(config, env={}, storage_url="file:///srv/berth")
    assert flagged.storage_url == "file:///srv/berth"  # a flag beats both


def test_berth_config_names_the_file_and_sqlite_alone_migrates_itself(tmp_path: Path):
    config = tmp_path / "c.toml"
    config.write_text('database = "postgresql://hub@db.example/berth"\n')
    settings = load_settings(env={"BERTH_CONFIG": str(config)}, data_dir=tmp_path)
    assert settings.database_url == "postgresql://hub@db.example/berth"
    assert settings.auto_migrate is False
    assert load_settings(env={}, data_dir=tmp_path).auto_migrate is True


def test_mistakes_are_all_reported(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text('gc_grace = "soon"\nlisten_prot = 1\n[s3]\nredirect = "perhaps"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={"BERTH_WORKERS": "many"})
    messages = [str(problem) for problem in error.value.problems]
    assert len(messages) == 4, messages
    assert any("did you mean 'listen_port'" in m for m in messages)
    assert any(m.startswith("BERTH_WORKERS") for m in messages)


def run_hub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "registry", *args], cwd=REPO_ROOT,
                          env=repo_env(), capture_output=True, text=True, timeout=120)


def test_config_check_reports_before_start(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text('storage = "ftp://somewhere"\n')
    done = run_hub("config", "check", "--config", str(config), "--data", str(tmp_path / "d"))
    assert done.returncode == 1
    assert "problem: storage: unsupported storage URL 'ftp://somewhere'" in done.stdout
    done = run_hub("config", "check", "--data", str(tmp_path / "d"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "configuration OK" in done.stdout


def test_gc_dry_run_lists_and_counts(tmp_path: Path):
    data = tmp_path / "d"
    assert run_hub("db", "upgrade", "--data", str(data)).returncode == 0
    done = run_hub("gc", "--dry-run", "--data", str(data), "--grace", "0")
    assert done.returncode == 0, done.stderr
    assert "would remove 0 manifests" in done.stdout and "would free 0 bytes" in done.stdout


def test_config_check_reports_webhook_settings_that_cannot_work(tmp_path: Path):
    config = tmp_path / "hooks.toml"
    config.write_text(
        '[webhook]\nallowed_targets = "public, not a host!"\n'
        "timeout_seconds = 30\nlease_seconds = 20\n"
    )
    done = run_hub("config", "check", "--config", str(config), "--data", str(tmp_path / "d"))
    assert done.returncode == 1
    assert "problem: webhook_allowed_targets: not a host name" in done.stdout
    assert "problem: webhook_lease_seconds: must exceed webhook_timeout_seconds" in done.stdout
