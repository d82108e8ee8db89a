"""The `[admission]` settings: which host names are the hub's, and the rule for the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.admission.service import AdmissionOptions
from registry.app import create_app
from registry.config import ConfigError, load_settings
from registry.settings import Settings


def test_the_admission_table_of_a_config_file(tmp_path: Path):
    config = tmp_path / "berth.toml"
    config.write_text(
        '[admission]\nenabled = true\nregistry_hosts = "Hub.Example:443, hub.example:5000"\n'
        'other_registries = "deny"\ntoken = "sekrit-token"\n'
    )
    settings = load_settings(config, env={}, data_dir=tmp_path)
    assert settings.admission_enabled is True
    assert "sekrit-token" not in repr(settings)
    options = AdmissionOptions.from_settings(settings)
    # `host:443` is the bare host (https' port), and names compare in lowercase.
    assert options.hosts == {"hub.example", "hub.example:5000"}
    assert options.allow_other_registries is False
    assert options.token == "sekrit-token"


def test_without_host_names_the_listen_address_is_the_hub(tmp_path: Path):
    loopback = Settings(data_dir=tmp_path, listen_host="127.0.0.1", listen_port=5000)
    assert AdmissionOptions.from_settings(loopback).hosts == {"127.0.0.1:5000", "localhost:5000"}
    named = Settings(data_dir=tmp_path, listen_host="hub.internal", listen_port=443)
    assert AdmissionOptions.from_settings(named).hosts == {"hub.internal"}
    assert AdmissionOptions.from_settings(named).allow_other_registries is True


def test_an_unknown_rule_for_other_registries_stops_the_hub(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, admission_other_registries="maybe").resolve()
    with pytest.raises(ConfigError) as raised:
        create_app(settings)
    assert "admission.other_registries: wants allow or deny, got 'maybe'" in str(raised.value)
