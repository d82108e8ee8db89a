"""The create/run flag checks that refuse a value before any container exists."""

from __future__ import annotations

import pytest

from runtime_client.container_errors import InvalidFlagError, InvalidOptionError
from runtime_client.ops.flag_checks import check_extra_host, check_mac, check_restart


@pytest.mark.parametrize("value", ["no", "always", "unless-stopped", "on-failure",
                                   "on-failure:3", "on-failure:0", "no:0"])
def test_restart_policies_docker_accepts(value: str) -> None:
    assert check_restart(value) == value


@pytest.mark.parametrize(("value", "message"), [
    ("bogus", "invalid restart policy 'bogus'"),
    ("on-failure:x", "maximum retry count must be an integer"),
    ("always:3", "maximum retry count cannot be used with restart policy 'always'"),
    ("on-failure:-1", "maximum retry count cannot be negative"),
])
def test_restart_policies_docker_refuses(value: str, message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        check_restart(value)


def test_extra_hosts() -> None:
    assert check_extra_host("db:10.1.2.3") == "db:10.1.2.3"
    assert check_extra_host("db=10.1.2.3") == "db:10.1.2.3"
    assert check_extra_host("v6:::1") == "v6:::1"
    assert check_extra_host("gw:host-gateway") == "gw:host-gateway"
    with pytest.raises(InvalidFlagError, match='bad format for add-host: "bad"'):
        check_extra_host("bad")


@pytest.mark.parametrize("value", ["02:42:ac:11:00:02", "02-42-AC-11-00-02",
                                   "0242.ac11.0002", "00:00:00:00:fe:80:00:00"])
def test_mac_addresses_go_reads(value: str) -> None:
    assert check_mac(value) == value


@pytest.mark.parametrize("value", ["zz:zz", "02:42:ac:11:00", "02:42-ac:11:00:02",
                                   "02:42:ac:11:00:02:"])
def test_mac_addresses_go_refuses(value: str) -> None:
    with pytest.raises(InvalidFlagError, match="is not a valid mac address"):
        check_mac(value)
