"""`logs --since/--until` values, read as the docker CLI reads them."""

from datetime import UTC, datetime, timedelta

import pytest

from runtime_client.container_errors import InvalidOptionError
from runtime_client.timefilter import go_duration_error, parse_log_time

NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "moment"), [
    ("10m", NOW - timedelta(minutes=10)),
    ("1h30m", NOW - timedelta(hours=1, minutes=30)),
    ("1.5s", NOW - timedelta(seconds=1.5)),
    ("250ms", NOW - timedelta(milliseconds=250)),
    ("1136073600", datetime(2006, 1, 1, tzinfo=UTC)),
    ("0", datetime(1970, 1, 1, tzinfo=UTC)),
    ("1136073600.5", datetime(2006, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ("2026-12-04T11:00:00Z", datetime(2026, 12, 4, 11, tzinfo=UTC)),
    ("2026-12-04T13:00:00.123456789+02:00", datetime(2026, 12, 4, 11, 0, 0, 123456, tzinfo=UTC)),
    ("2026-12-04T11:00Z", datetime(2026, 12, 4, 11, tzinfo=UTC)),
])
def test_values_docker_reads(value, moment):
    assert parse_log_time("since", value, NOW) == moment


def test_a_time_without_a_zone_is_local_time():
    parsed = parse_log_time("since", "2026-12-04", NOW)
    assert parsed == datetime(2026, 12, 4).astimezone()


@pytest.mark.parametrize("value", ["yesterday", "10x", "2026-13-01", "1h-", ""])
def test_other_values_are_refused_with_dockers_message(value):
    with pytest.raises(InvalidOptionError,
                       match='invalid value for "since": failed to parse value as time or'):
        parse_log_time("since", value, NOW)


@pytest.mark.parametrize(("value", "error"), [
    ("24h", None), ("1h30m", None), ("1.5s", None), ("0", None), ("-5m", None),
    ("", 'time: invalid duration ""'), (".s", 'time: invalid duration ".s"'),
    ("2025-01-01", 'time: unknown unit "-" in duration "2025-01-01"'),
    ("1735689600", 'time: missing unit in duration "1735689600"'),
    ("10x", 'time: unknown unit "x" in duration "10x"'),
])
def test_go_duration_errors(value, error):
    assert go_duration_error(value) == error
