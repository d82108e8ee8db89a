"""Writer sessions of the S3 driver: multipart uploads that any hub process can resume.

A writer buffers up to `part_size` bytes (S3's minimum part is 5 MiB) and sends each full
buffer as a part of a multipart upload, up to `PARTS_IN_FLIGHT` at once while more bytes
arrive; when one fails, the writer saves nothing over the last saved session. Given an
`expected_size` of at most `single_put_max`, it holds the whole file instead, so that `commit`
or `commit_to` stores it with one PutObject.

`close()` without commit persists the session as one object beside the key, `K~writer`: a
JSON line (multipart upload id, parts, bytes in parts) followed by the buffered bytes, with the
total size and the upload id also in its metadata, so that `stat` and `cancel` need only a HEAD.
Any hub process resumes it with `writer(K, append=True)`; each save carries a fresh `version`
token, so a process can tell whether another one saved since. `commit()` completes the
multipart upload (or PUTs a buffered object) and only then do readers see the bytes.
`commit_to(dest)` PUTs a buffered file straight to `dest`, or completes the upload and copies
it server-side.

Appending to a committed object copies it into the new upload server-side (`UploadPartCopy`),
or reads it back when it is smaller than a part. Parts a killed process sent after its last
`close()` are overwritten when the session resumes; whole sessions abandoned by crashed
processes are aborted by `S3Driver.abort_incomplete_uploads` (or a bucket lifecycle rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from registry.storage.driver.s3 import S3Driver

__all__ = [
    "MAX_COPY_PART",
    "SESSION_MARK",
    "SESSION_SUFFIX",
    "S3Writer",
    "SessionHead",
    "discard_session",
    "head_session",
]

MAX_COPY_PART = 5 * 1024 * 1024 * 1024  # bytes; S3's maximum for one (part) copy
PARTS_IN_FLIGHT = 2  # part uploads that overlap receiving the next part
# A writer session of key K lives in `K~writer`: `~` is not a path character (PATH_RE), so no
# stored path collides with it, and listings hide it.
SESSION_MARK = "~"
SESSION_SUFFIX = "~writer"
_META_SIZE = "berth-size"  # x-amz-meta-*: bytes in the session (parts and buffer)
_META_UPLOAD = "berth-upload-id"  # the multipart upload id, "" before the first part
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}

T = TypeVar("T")


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _NOT_FOUND


@dataclass(frozen=True, slots=True)
class SessionHead:
    """What the metadata of a persisted session tells without reading it."""

    size: int
    mtime: float
    upload_id: str | None


async def _session_call(driver: S3Driver, method: Any, key: str) -> dict[str, Any] | None:
    """`method` (head_object, get_object) on the session object of `key`, or None if absent."""
    try:
        response: dict[str, Any] = await driver.call(
            method, Bucket=driver.bucket, Key=key + SESSION_SUFFIX
        )
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    return response


async def head_session(driver: S3Driver, key: str) -> SessionHead | None:
    """The persisted session of `key` (one HEAD), or None."""
    head = await _session_call(driver, driver.client.head_object, key)
    if head is None:
        return None
    meta = head.get("Metadata", {})
    return SessionHead(
        int(meta.get(_META_SIZE, 0)),
        head["LastModified"].timestamp(),
        meta.get(_META_UPLOAD) or None,
    )


async def _load_session(driver: S3Driver, key: str) -> tuple[dict[str, Any], bytes] | None:
    response = await _session_call(driver, driver.client.get_object, key)
    if response is None:
        return None
    body = response["Body"]
    try:
        data: bytes = await driver.call(body.read)
    finally:
        body.close()
    header, _, tail = data.partition(b"\n")
    return json.loads(header), tail


async def discard_session(driver: S3Driver, key: str, upload_id: str | None) -> None:
    """Forget the session of `key`; abort its multipart upload when there is one."""
    if upload_id:
        with contextlib.suppress(ClientError):  # already completed or aborted
            await driver.call(
                driver.client.abort_multipart_upload,
                Bucket=driver.bucket, Key=key, UploadId=upload_id,
            )
    await driver.call(driver.client.delete_object, Bucket=driver.bucket, Key=key + SESSION_SUFFIX)


class S3Writer:
    """One writing session on one key; see the module docstring for the rules."""

    def __init__(
        self, driver: S3Driver, path: str, key: str, expected_size: int | None = None
    ) -> None:
        self._driver = driver
        self._path = path
        self._key = key
        self._part_size = driver.config.part_size
        # Bytes the buffer may hold before parts go out: one part, or the whole expected file.
        self._hold = self._part_size - 1
        if expected_size is not None and expected_size <= driver.config.single_put_max:
            self._hold = max(self._hold, expected_size)
        self._buffer = bytearray()
        self._sent = 0  # bytes in parts (copied or uploaded)
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []  # sent and acknowledged
        self._next_part = 1
        self._in_flight: list[asyncio.Task[dict[str, Any]]] = []
        self._failed = False  # a part upload failed: the session must not be saved over
        self._session_saved = False  # `K~writer` exists for this key
        self._version = ""  # a fresh token per saved session; "" for no session
        self._written = False  # something changed that commit or close must store
        self._done = False

    async def open(self, append: bool) -> S3Writer:
        if not append:
            head = await head_session(self._driver, self._key)
            if head is not None:
                await discard_session(self._driver, self._key, head.upload_id)
            self._written = True  # even an empty writer leaves an (empty) file
            return self
        loaded = await _load_session(self._driver, self._key)
        if loaded is not None:
            state, tail = loaded
            self._session_saved = True
            self._upload_id = state["upload_id"]
            self._parts = state["parts"]
            self._next_part = len(self._parts) + 1
            self._sent = state["sent"]
            self._version = state.get("version", "")
            self._buffer += tail
            return self
        size = await self._driver.object_size(self._key)
        if size is None:
            self._written = True
        elif 0 < size < self._part_size:
            self._buffer += await self._driver.get_content(self._path)
        elif size:
            await self._copy_existing(size)
            self._written = True
        return self

    @property
    def size(self) -> int:
        return self._sent + len(self._buffer)

    @property
    def version(self) -> str:
        # Two processes resuming the same session both save it; the last save wins, and its
        # token is not the other's. (A part they both sent under one number and that does not
        # match the winning state's ETag makes the completion fail, never mix bytes.)
        return self._version

    async def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        return await self._driver.call(fn, Bucket=self._driver.bucket, Key=self._key, **kwargs)

    async def _ensure_upload(self) -> str:
        if self._upload_id is None:
            created = await self._call(self._driver.client.create_multipart_upload)
            self._upload_id = created["UploadId"]
        return self._upload_id

    async def _copy_existing(self, size: int) -> None:
        # The committed object becomes the first parts, copied inside S3 (at most 5 GiB each).
        upload_id = await self._ensure_upload()
        for start in range(0, size, MAX_COPY_PART):
            end = min(start + MAX_COPY_PART, size) - 1
            number = self._next_part
            self._next_part += 1
            copied = await self._call(
                self._driver.client.upload_part_copy,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": self._driver.bucket, "Key": self._key},
                CopySourceRange=f"bytes={start}-{end}",
            )
            self._parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
        self._sent = size

    async def _upload_part(self, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        sent = await self._call(
            self._driver.client.upload_part, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": sent["ETag"]}

    async def _send_part(self, data: bytes) -> None:
        """Start uploading a part; at most `PARTS_IN_FLIGHT` run while more bytes arrive."""
        upload_id = await self._ensure_upload()
        if len(self._in_flight) >= PARTS_IN_FLIGHT:
            oldest = self._in_flight.pop(0)
            try:
                self._parts.append(await oldest)
            except BaseException:
                self._failed = True
                raise
        number = self._next_part
        self._next_part += 1
        self._in_flight.append(asyncio.ensure_future(self._upload_part(upload_id, number, data)))
        self._sent += len(data)
        self._hold = self._part_size - 1  # once in parts, holding more buys nothing

    async def _settle_parts(self) -> None:
        """Wait for every part in flight; raise the first failure once all have ended."""
        tasks, self._in_flight = self._in_flight, []
        failure: BaseException | None = None
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, BaseException):
                failure = failure or result
            else:
                self._parts.append(result)
        if failure is not None:
            self._failed = True
            raise failure
        self._parts.sort(key=lambda part: part["PartNumber"])

    async def write(self, chunk: bytes) -> None:
        if self._done:
            raise RuntimeError("write after close")
        if not chunk:
            return
        self._written = True
        self._buffer += chunk
        while len(self._buffer) > self._hold:
            part = bytes(self._buffer[: self._part_size])
            del self._buffer[: self._part_size]
            await self._send_part(part)

    async def _complete_upload(self) -> None:
        if self._buffer or not (self._parts or self._in_flight):
            await self._send_part(bytes(self._buffer))
            self._buffer.clear()
        await self._settle_parts()
        await self._call(
            self._driver.client.complete_multipart_upload,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )

    def _finish(self) -> None:
        if self._done:
            raise RuntimeError("writer already closed")
        self._done = True

    async def commit(self) -> None:
        """Complete the object (a single PUT when it never outgrew the buffer)."""
        if self._done:
            return
        self._done = True
        if self._upload_id is not None:
            await self._complete_upload()
        elif self._written or self._session_saved:
            await self._call(self._driver.client.put_object, Body=bytes(self._buffer))
        if self._session_saved:
            await self._driver.call(
                self._driver.client.delete_object,
                Bucket=self._driver.bucket, Key=self._key + SESSION_SUFFIX,
            )

    async def commit_to(self, dest: str) -> None:
        """Store the bytes at `dest`: one PUT when buffered, else complete and copy in S3."""
        self._finish()
        dest_key = self._driver.key_of(dest)
        if self._upload_id is None:
            await self._driver.call(
                self._driver.client.put_object,
                Bucket=self._driver.bucket, Key=dest_key, Body=bytes(self._buffer),
            )
        else:
            await self._complete_upload()
            await self._driver.copy_key(self._key, dest_key, self.size)
        await self._driver.delete_keys([self._key, self._key + SESSION_SUFFIX])

    async def close(self) -> None:
        """Persist the session (parts so far, the buffered bytes) for any process to resume."""
        if self._done:
            return
        self._done = True
        if not self._written:
            return
        if self._failed:
            # The last saved session (if any) still holds; parts sent after it are overwritten
            # when it resumes.
            await self._abandon_parts()
            return
        await self._settle_parts()
        if self._upload_id is None and not self._buffer and not self._session_saved:
            await self._call(self._driver.client.put_object, Body=b"")
            return
        self._version = uuid.uuid4().hex
        state = {
            "upload_id": self._upload_id,
            "parts": self._parts,
            "sent": self._sent,
            "version": self._version,
        }
        await self._driver.call(
            self._driver.client.put_object,
            Bucket=self._driver.bucket,
            Key=self._key + SESSION_SUFFIX,
            Body=json.dumps(state).encode() + b"\n" + bytes(self._buffer),
            Metadata={_META_SIZE: str(self.size), _META_UPLOAD: self._upload_id or ""},
        )

    async def _abandon_parts(self) -> None:
        tasks, self._in_flight = self._in_flight, []
        await asyncio.gather(*tasks, return_exceptions=True)

    async def cancel(self) -> None:
        if self._done:
            return
        self._done = True
        await self._abandon_parts()
        if self._upload_id is not None:
            with contextlib.suppress(ClientError):
                await self._call(
                    self._driver.client.abort_multipart_upload, UploadId=self._upload_id
                )
        await self._driver.delete_keys([self._key, self._key + SESSION_SUFFIX])
