"""The access log's own sink writes the lines `logging` would, one write per loop turn."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re

from registry.api.accesslog import StreamSink

LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO registry\.access (\{.*\})")


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


async def test_lines_match_the_logging_format_and_share_one_write() -> None:
    stream = CountingStream()
    sink = StreamSink(stream)
    sink.write({"path": "/v2/", "status": 200})
    sink.write({"path": '/v2/"odd"', "status": 404})
    assert stream.getvalue() == ""  # written when this turn of the loop ends
    await asyncio.sleep(0)
    lines = stream.getvalue().splitlines()
    assert stream.writes == 1
    fields = [json.loads(LINE.fullmatch(line).group(2)) for line in lines]  # type: ignore[union-attr]
    assert fields == [{"path": "/v2/", "status": 200}, {"path": '/v2/"odd"', "status": 404}]
    # The time text is logging.Formatter's default.
    stamp = LINE.fullmatch(lines[0]).group(1)  # type: ignore[union-attr]
    record = logging.makeLogRecord({})
    assert len(stamp) == len(logging.Formatter().formatTime(record))
