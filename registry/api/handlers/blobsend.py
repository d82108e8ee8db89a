"""Large blob bodies sent by a blocking sendfile in a worker thread.

asyncio's sendfile hands the kernel what the socket buffer takes, then waits in the event loop
for room again: a return to Python and a loop turn for every buffer, on the loop's one thread.
A worker thread whose sendfile blocks stays in the kernel until the whole range is sent, and
concurrent pulls spread over every core. Bodies under a megabyte, TLS connections, compressed
responses and pulls beyond the thread budget keep aiohttp's own path.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

__all__ = ["BlobFileResponse", "send_in_thread"]

THREADED_MIN_BYTES = 1 << 20
MAX_THREADS = 8
STALLED_SECONDS = 120  # a client that takes nothing for this long is dropped

_executor = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="blob-send")
_budget = threading.BoundedSemaphore(MAX_THREADS)


def _send_range(sock_fd: int, file_fd: int, offset: int, count: int) -> None:
    """sendfile `count` bytes from `offset`, blocking in the kernel until all are sent.

    The socket is switched to blocking mode for the transfer and back afterwards: the flag
    belongs to the connection, which the event loop leaves alone meanwhile (reading is paused
    and the response is ours). A client that takes nothing for STALLED_SECONDS times out.
    Owns both descriptors (duplicates, so a connection closed meanwhile can never hand its
    number to another one) and one unit of the thread budget, and gives all three back.

    Raises:
        ConnectionResetError: the client stopped taking data, or the file ended early.
    """
    sock = socket.socket(fileno=sock_fd)
    try:
        sock.setblocking(True)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                        struct.pack("ll", STALLED_SECONDS, 0))
        end = offset + count
        while offset < end:
            try:
                sent = os.sendfile(sock_fd, file_fd, offset, end - offset)
            except BlockingIOError:  # SO_SNDTIMEO ran out with nothing taken
                raise ConnectionResetError("the client stopped reading") from None
            if sent == 0:
                raise ConnectionResetError("the blob file ended before its recorded size")
            offset += sent
    finally:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 0, 0))
        sock.setblocking(False)
        sock.close()
        os.close(file_fd)
        _budget.release()


class BlobFileResponse(web.FileResponse):
    """One byte range of an open blob file; large plain-TCP bodies go out from a worker thread.

    The handler has already decided the status, range and validators (the blob's digest is
    its ETag; see `registry.api.conditional`), so aiohttp's own file logic (a modification-
    time ETag, its Range parsing) is bypassed: only its sendfile machinery is used.
    """

    def __init__(self, blob_file: IO[bytes], offset: int, count: int, *, status: int,
                 headers: dict[str, str]) -> None:
        """Send `count` bytes of `blob_file` from `offset`; the response closes the file."""
        super().__init__(blob_file.name, status=status, headers=headers)
        self._blob_file = blob_file
        self._offset = offset
        self._count = count

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        self.content_length = self._count
        try:
            if self._count == 0 or request.method == "HEAD":
                return await super(web.FileResponse, self).prepare(request)
            return await self._sendfile(request, self._blob_file, self._offset, self._count)
        finally:
            await asyncio.to_thread(self._blob_file.close)

    async def _sendfile(self, request: web.BaseRequest, fobj: IO[Any], offset: int,
                        count: int) -> AbstractStreamWriter:
        transport = request.transport
        if (count < THREADED_MIN_BYTES or self.compression or transport is None
                or not _plain_tcp(transport)):
            return await super()._sendfile(request, fobj, offset, count)
        writer = await super(web.FileResponse, self).prepare(request)
        assert writer is not None
        if not await send_in_thread(transport, fobj.fileno(), offset, count):
            await asyncio.get_running_loop().sendfile(transport, fobj, offset, count)
        await super(web.FileResponse, self).write_eof()
        return writer


async def send_in_thread(transport: asyncio.Transport, file_fd: int, offset: int,
                         count: int) -> bool:
    """Send `count` bytes of a file from `offset` on a response's connection, from a worker.

    Only on a plain TCP connection with nothing queued before (the headers went out) and a
    thread of the budget free; the file's position is neither used nor moved.

    Returns:
        Whether the bytes were sent; False when nothing was (the caller sends them itself).

    Raises:
        ConnectionResetError: the client stopped taking data, or the file ended early.
    """
    if (not _plain_tcp(transport) or transport.get_write_buffer_size()
            or not _budget.acquire(blocking=False)):
        return False
    handed_over = False
    reading = transport.is_reading()
    transport.pause_reading()
    try:
        sock_fd = os.dup(transport.get_extra_info("socket").fileno())
        try:
            file_fd = os.dup(file_fd)
        except OSError:
            os.close(sock_fd)
            raise
        handed_over = True
        await asyncio.get_running_loop().run_in_executor(_executor, _send_range, sock_fd,
                                                         file_fd, offset, count)
    finally:
        if not handed_over:
            _budget.release()
        if reading and not transport.is_closing():
            transport.resume_reading()
    return True


def _plain_tcp(transport: asyncio.BaseTransport) -> bool:
    return (transport.get_extra_info("ssl_object") is None
            and transport.get_extra_info("socket") is not None)
