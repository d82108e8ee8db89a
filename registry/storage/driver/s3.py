"""The S3 driver: paths are object keys below `s3://bucket/prefix`, through boto3.

boto3 is synchronous, so every call runs in a worker thread (`asyncio.to_thread`).
Credentials come from the standard AWS chain (environment, shared files, instance roles).

Writing: a writer buffers up to `part_size` (S3's minimum part is 5 MiB) and sends each full
buffer as a part of a multipart upload. `close()` without commit persists the session in the
bucket, beside the key: `K~writer` (upload id, parts, size) and `K~tail` (the buffered bytes,
shorter than a part), so any hub process can resume it with `writer(K, append=True)`; `stat`
counts those bytes. `commit()` completes the multipart upload (or PUTs a small object) and
only then do readers see the bytes. Appending to a committed object copies it into the new
upload server-side (`UploadPartCopy`), or reads it back when it is smaller than a part. Parts
a killed process sent after its last `close()` are overwritten when the session resumes;
whole sessions abandoned by crashed processes are aborted by `abort_incomplete_uploads`
(or a bucket lifecycle rule, `AbortIncompleteMultipartUpload`).

Directories are implied by key prefixes, as in every object store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from registry.storage.driver.base import (
    PATH_RE,
    FileInfo,
    InvalidOffsetError,
    InvalidPathError,
    PathNotFoundError,
    StorageDriverError,
)

logger = logging.getLogger(__name__)

__all__ = ["S3Config", "S3Driver"]

MIN_PART_SIZE = 5 * 1024 * 1024  # bytes; S3's minimum for every part but the last
MAX_COPY_PART = 5 * 1024 * 1024 * 1024  # bytes; S3's maximum for one UploadPartCopy
READ_CHUNK = 1 << 20  # bytes per streamed read
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
# A writer session of key K lives in `K~writer` (JSON) and `K~tail` (bytes): `~` is not a
# path character (PATH_RE), so no stored path collides with them, and listings hide them.
_SESSION_MARK = "~"
_STATE_SUFFIX = "~writer"
_TAIL_SUFFIX = "~tail"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class S3Config:
    """Options of the S3 driver besides bucket and prefix (which the storage URL gives)."""

    region: str | None = None
    endpoint_url: str | None = None  # an S3-compatible service (MinIO, moto, Ceph)
    path_style: bool = False  # address buckets as /bucket/key instead of bucket.host
    redirect: bool = False  # answer blob GETs with 307 to a presigned URL
    redirect_expiry: int = 1200  # seconds a presigned URL stays valid
    part_size: int = 8 * 1024 * 1024  # bytes per multipart part (at least MIN_PART_SIZE)
    max_connections: int = 32  # HTTP connection pool size of the boto3 client


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class _S3Writer:
    """One writing session on one key; see the module docstring for the rules."""

    def __init__(self, driver: S3Driver, path: str, key: str) -> None:
        self._driver = driver
        self._path = path
        self._key = key
        self._buffer = bytearray()
        self._sent = 0  # bytes in parts (copied or uploaded)
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._dirty = False  # something to persist or complete
        self._done = False

    async def open(self, append: bool) -> _S3Writer:
        state = await self._driver.load_state(self._key)
        if not append:
            if state is not None:
                await self._driver.discard_state(self._key, state)
            self._dirty = True  # even an empty writer leaves an (empty) file
            return self
        if state is not None:
            self._dirty = True  # the session must be completed or persisted again
            self._upload_id = state["upload_id"]
            self._parts = state["parts"]
            self._sent = state["sent"]
            self._buffer += await self._driver.get_tail(self._key)
            return self
        try:
            size = (await self._driver.stat(self._path)).size
        except PathNotFoundError:
            self._dirty = True
            return self
        if size < self._driver.config.part_size:
            self._buffer += await self._driver.get_content(self._path)
        else:
            await self._copy_existing(size)
        return self

    @property
    def size(self) -> int:
        return self._sent + len(self._buffer)

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
            number = len(self._parts) + 1
            copied = await self._call(
                self._driver.client.upload_part_copy,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": self._driver.bucket, "Key": self._key},
                CopySourceRange=f"bytes={start}-{end}",
            )
            self._parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
        self._sent = size

    async def _send_part(self, data: bytes) -> None:
        upload_id = await self._ensure_upload()
        number = len(self._parts) + 1
        sent = await self._call(
            self._driver.client.upload_part, UploadId=upload_id, PartNumber=number, Body=data
        )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})
        self._sent += len(data)

    async def write(self, chunk: bytes) -> None:
        if self._done:
            raise RuntimeError("write after close")
        if not chunk:
            return
        self._dirty = True
        self._buffer += chunk
        part_size = self._driver.config.part_size
        while len(self._buffer) >= part_size:
            part = bytes(self._buffer[:part_size])
            del self._buffer[:part_size]
            await self._send_part(part)

    async def commit(self) -> None:
        """Complete the object (a single PUT when it never outgrew the buffer)."""
        if self._done:
            return
        self._done = True
        client = self._driver.client
        if self._upload_id is None:
            if self._dirty:
                await self._call(client.put_object, Body=bytes(self._buffer))
        else:
            if self._buffer or not self._parts:
                await self._send_part(bytes(self._buffer))
                self._buffer.clear()
            await self._call(
                client.complete_multipart_upload,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        await self._driver.discard_state(self._key, None)

    async def close(self) -> None:
        """Persist the session (parts so far, the buffered tail) for any process to resume."""
        if self._done:
            return
        self._done = True
        if not self._dirty:
            return
        if self._upload_id is None and not self._buffer:
            await self._call(self._driver.client.put_object, Body=b"")
            return
        await self._driver.save_state(
            self._key,
            {"upload_id": self._upload_id, "parts": self._parts, "sent": self._sent},
            bytes(self._buffer),
        )

    async def cancel(self) -> None:
        self._done = True
        state = await self._driver.load_state(self._key)
        if self._upload_id is not None:
            state = {"upload_id": self._upload_id}
        await self._driver.discard_state(self._key, state)
        await self._call(self._driver.client.delete_object)


class S3Driver:
    """Stores each path as the object `prefix/path` in one bucket.

    Args:
        bucket: the bucket (it must exist; `berth-hub config check` says when it does not).
        prefix: key prefix below which everything lives ("" for the bucket's root).
        config: region, endpoint, addressing style, redirects and part size.
    """

    name = "s3"

    def __init__(self, bucket: str, prefix: str = "", config: S3Config | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.config = config or S3Config()
        if self.config.part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 part size must be at least {MIN_PART_SIZE} bytes")
        session = boto3.session.Session()
        self.client = session.client(
            "s3",
            region_name=self.config.region,
            endpoint_url=self.config.endpoint_url,
            config=Config(
                s3={"addressing_style": "path" if self.config.path_style else "auto"},
                max_pool_connections=self.config.max_connections,
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )

    def __repr__(self) -> str:
        return f"S3Driver(s3://{self.bucket}/{self.prefix})"

    async def call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        """Run one boto3 call in a worker thread."""
        return await asyncio.to_thread(fn, **kwargs)

    def _key(self, path: str) -> str:
        if not PATH_RE.match(path) or ".." in path.split("/"):
            raise InvalidPathError(self.name, path)
        return f"{self.prefix}/{path}" if self.prefix else path

    def _path_of(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    async def _get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return await self.call(
                self.client.get_object, Bucket=self.bucket, Key=self._key(path), **kwargs
            )
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                raise PathNotFoundError(self.name, path) from exc
            raise StorageDriverError(self.name, path, str(exc)) from exc

    async def get_content(self, path: str) -> bytes:
        response = await self._get(path)
        body = response["Body"]
        try:
            return await asyncio.to_thread(body.read)
        finally:
            body.close()

    async def put_content(self, path: str, data: bytes) -> None:
        await self.call(self.client.put_object, Bucket=self.bucket, Key=self._key(path), Body=data)

    async def reader(self, path: str, offset: int = 0) -> AsyncIterator[bytes]:
        if offset:
            try:
                response = await self._get(path, Range=f"bytes={offset}-")
            except StorageDriverError as exc:
                if not isinstance(exc.__cause__, ClientError) or (
                    _error_code(exc.__cause__) != "InvalidRange"
                ):
                    raise
                # S3 refuses a range starting at the end; that is an empty read for us.
                if (await self.stat(path)).size == offset:
                    return
                raise InvalidOffsetError(self.name, path, f"offset {offset}") from exc
        else:
            response = await self._get(path)
        body = response["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, READ_CHUNK):
                yield chunk
        finally:
            body.close()

    async def writer(self, path: str, append: bool = False) -> _S3Writer:
        return await _S3Writer(self, path, self._key(path)).open(append)

    async def stat(self, path: str) -> FileInfo:
        key = self._key(path)
        state = await self.load_state(key)
        if state is not None:  # an unfinished writer session: its bytes count
            return FileInfo(path, state["sent"] + state["tail"], False, state["saved_at"])
        try:
            head = await self.call(self.client.head_object, Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) not in _NOT_FOUND:
                raise StorageDriverError(self.name, path, str(exc)) from exc
        else:
            mtime = head["LastModified"].timestamp()
            return FileInfo(path, int(head["ContentLength"]), False, mtime)
        listed = await self.call(
            self.client.list_objects_v2, Bucket=self.bucket, Prefix=key + "/", MaxKeys=1
        )
        if listed.get("KeyCount", 0) > 0:
            return FileInfo(path, 0, True, 0.0)
        raise PathNotFoundError(self.name, path)

    async def _pages(self, prefix: str, delimiter: str | None = None) -> list[dict[str, Any]]:
        def collect() -> list[dict[str, Any]]:
            paginator = self.client.get_paginator("list_objects_v2")
            extra = {"Delimiter": delimiter} if delimiter else {}
            return list(paginator.paginate(Bucket=self.bucket, Prefix=prefix, **extra))

        return await asyncio.to_thread(collect)

    async def list(self, path: str) -> list[str]:
        prefix = self._key(path) + "/"
        children: set[str] = set()
        for page in await self._pages(prefix, "/"):
            prefixes = page.get("CommonPrefixes", [])
            children.update(self._path_of(p["Prefix"].rstrip("/")) for p in prefixes)
            children.update(
                self._path_of(o["Key"].split(_SESSION_MARK)[0]) for o in page.get("Contents", [])
            )
        if not children:
            raise PathNotFoundError(self.name, path)
        return sorted(children)

    async def move(self, source: str, dest: str) -> None:
        src_key, dst_key = self._key(source), self._key(dest)
        copy_source = {"Bucket": self.bucket, "Key": src_key}
        try:
            head = await self.call(self.client.head_object, Bucket=self.bucket, Key=src_key)
            if int(head["ContentLength"]) <= MAX_COPY_PART:
                # One server-side request; S3 copies at most 5 GiB this way.
                await self.call(
                    self.client.copy_object, CopySource=copy_source, Bucket=self.bucket,
                    Key=dst_key,
                )
            else:  # the managed copy splits larger objects into UploadPartCopy requests
                await self.call(
                    self.client.copy, CopySource=copy_source, Bucket=self.bucket, Key=dst_key
                )
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                raise PathNotFoundError(self.name, source) from exc
            raise StorageDriverError(self.name, source, str(exc)) from exc
        await self.call(self.client.delete_object, Bucket=self.bucket, Key=src_key)

    async def delete(self, path: str) -> None:
        key = self._key(path)
        keys = [o["Key"] for page in await self._pages(key + "/") for o in page.get("Contents", [])]
        for session in [k for k in keys if k.endswith(_STATE_SUFFIX)]:
            found = await self.load_state(session.removesuffix(_STATE_SUFFIX))
            await self.discard_state(session.removesuffix(_STATE_SUFFIX), found)
        try:
            await self.call(self.client.head_object, Bucket=self.bucket, Key=key)
            keys.append(key)
        except ClientError as exc:
            if _error_code(exc) not in _NOT_FOUND:
                raise StorageDriverError(self.name, path, str(exc)) from exc
        state = await self.load_state(key)
        if state is not None:
            await self.discard_state(key, state)
            keys.append(key)
        if not keys:
            raise PathNotFoundError(self.name, path)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            await self.call(
                self.client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )

    # -- writer sessions -------------------------------------------------------------------

    async def load_state(self, key: str) -> dict[str, Any] | None:
        """The persisted writer session of `key`, or None."""
        try:
            response = await self.call(
                self.client.get_object, Bucket=self.bucket, Key=key + _STATE_SUFFIX
            )
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return None
            raise
        body = response["Body"]
        try:
            state: dict[str, Any] = json.loads(await asyncio.to_thread(body.read))
        finally:
            body.close()
        return state

    async def get_tail(self, key: str) -> bytes:
        """The buffered bytes of a persisted session (shorter than a part)."""
        try:
            response = await self.call(
                self.client.get_object, Bucket=self.bucket, Key=key + _TAIL_SUFFIX
            )
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return b""
            raise
        body = response["Body"]
        try:
            return await asyncio.to_thread(body.read)
        finally:
            body.close()

    async def save_state(self, key: str, state: dict[str, Any], tail: bytes) -> None:
        """Persist a session: the tail first, then the state that vouches for it."""
        state = {**state, "tail": len(tail), "saved_at": time.time()}
        await self.call(self.client.put_object, Bucket=self.bucket, Key=key + _TAIL_SUFFIX,
                        Body=tail)
        await self.call(self.client.put_object, Bucket=self.bucket, Key=key + _STATE_SUFFIX,
                        Body=json.dumps(state).encode())

    async def discard_state(self, key: str, state: dict[str, Any] | None) -> None:
        """Forget a session; abort its multipart upload when `state` names one."""
        upload_id = (state or {}).get("upload_id")
        if upload_id:
            with contextlib.suppress(ClientError):
                await self.call(self.client.abort_multipart_upload, Bucket=self.bucket,
                                Key=key, UploadId=upload_id)
        await self.call(
            self.client.delete_objects,
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": key + _STATE_SUFFIX}, {"Key": key + _TAIL_SUFFIX}],
                    "Quiet": True},
        )

    def local_path(self, path: str) -> Path | None:
        return None

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        if not self.config.redirect or method != "GET":
            return None
        return await self.call(
            self.client.generate_presigned_url,
            ClientMethod="get_object",
            Params={"Bucket": self.bucket, "Key": self._key(path)},
            ExpiresIn=self.config.redirect_expiry,
        )

    async def abort_incomplete_uploads(self, older_than: float) -> int:
        """Abort multipart uploads (of crashed writers) started more than `older_than` s ago.

        Returns:
            How many were aborted.
        """
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)

        def collect() -> list[dict[str, Any]]:
            paginator = self.client.get_paginator("list_multipart_uploads")
            prefix = f"{self.prefix}/" if self.prefix else ""
            return [
                upload
                for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
                for upload in page.get("Uploads", [])
            ]

        stale = [u for u in await asyncio.to_thread(collect) if u["Initiated"] < cutoff]
        for upload in stale:
            await self.call(
                self.client.abort_multipart_upload,
                Bucket=self.bucket,
                Key=upload["Key"],
                UploadId=upload["UploadId"],
            )
        return len(stale)

    async def check(self) -> None:
        """Raise `StorageDriverError` when the bucket cannot be reached."""
        try:
            await self.call(self.client.head_bucket, Bucket=self.bucket)
        except Exception as exc:
            message = f"bucket not reachable: {exc}"
            raise StorageDriverError(self.name, self.bucket, message) from exc
