"""The S3 driver: paths are object keys below `s3://bucket/prefix`, through boto3.

boto3 is synchronous, so every call runs in a worker thread (`asyncio.to_thread`).
Credentials come from the standard AWS chain (environment, shared files, instance roles).

Appending: S3 objects are immutable, so a writer builds a new object for each session. An
append session starts a multipart upload whose first parts are the existing object, copied
server-side (`UploadPartCopy`), or, when the existing object is smaller than a part, read
back into the buffer; new bytes are buffered up to `part_size` (S3's minimum part is 5 MiB)
and sent as parts. `commit()` and `close()` both complete the upload: S3 cannot keep
appended bytes anywhere a reader (or another hub process) could see them without completing
an object, and the committed object is the whole state another replica needs to continue.
A process killed mid-session leaves an incomplete multipart upload (invisible to readers);
`abort_incomplete_uploads` removes those, and a bucket lifecycle rule
(`AbortIncompleteMultipartUpload`) does the same without the hub.

Directories are implied by key prefixes, as in every object store.
"""

from __future__ import annotations

import asyncio
import logging
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
        self._base_size = 0  # bytes of the existing object copied server-side
        self._sent = 0  # bytes sent as parts (copied or uploaded)
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._dirty = True
        self._done = False

    async def open(self, append: bool) -> _S3Writer:
        if not append:
            return self
        try:
            size = (await self._driver.stat(self._path)).size
        except PathNotFoundError:
            return self
        self._dirty = False
        if size < self._driver.config.part_size:
            self._buffer += await self._driver.get_content(self._path)
        else:
            self._base_size = size
        return self

    @property
    def size(self) -> int:
        return self._base_size + self._sent + len(self._buffer)

    async def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        return await self._driver.call(fn, Bucket=self._driver.bucket, Key=self._key, **kwargs)

    async def _ensure_upload(self) -> str:
        if self._upload_id is not None:
            return self._upload_id
        client = self._driver.client
        created = await self._call(client.create_multipart_upload)
        self._upload_id = created["UploadId"]
        # Copy the existing object as the first parts, at most 5 GiB each.
        for start in range(0, self._base_size, MAX_COPY_PART):
            end = min(start + MAX_COPY_PART, self._base_size) - 1
            number = len(self._parts) + 1
            copied = await self._call(
                client.upload_part_copy,
                UploadId=self._upload_id,
                PartNumber=number,
                CopySource={"Bucket": self._driver.bucket, "Key": self._key},
                CopySourceRange=f"bytes={start}-{end}",
            )
            self._parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
        return self._upload_id

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
        if self._done:
            return
        self._done = True
        if not self._dirty:
            return
        client = self._driver.client
        try:
            if self._upload_id is None and self._base_size == 0:
                await self._call(client.put_object, Body=bytes(self._buffer))
                return
            if self._buffer:
                await self._send_part(bytes(self._buffer))
                self._buffer.clear()
            upload_id = await self._ensure_upload()
            await self._call(
                client.complete_multipart_upload,
                UploadId=upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        except BaseException:
            await self._abort()
            raise

    async def _abort(self) -> None:
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            try:
                await self._call(self._driver.client.abort_multipart_upload, UploadId=upload_id)
            except ClientError:
                logger.warning("could not abort multipart upload of %s", self._key)

    async def cancel(self) -> None:
        self._done = True
        await self._abort()
        try:
            await self._call(self._driver.client.delete_object)
        except ClientError as exc:
            if _error_code(exc) not in _NOT_FOUND:
                raise

    async def close(self) -> None:
        await self.commit()


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
            children.update(self._path_of(o["Key"]) for o in page.get("Contents", []))
        if not children:
            raise PathNotFoundError(self.name, path)
        return sorted(children)

    async def move(self, source: str, dest: str) -> None:
        src_key, dst_key = self._key(source), self._key(dest)
        try:
            # The managed copy goes multipart (server-side) above 8 MiB, so any size works.
            await self.call(
                self.client.copy,
                CopySource={"Bucket": self.bucket, "Key": src_key},
                Bucket=self.bucket,
                Key=dst_key,
            )
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                raise PathNotFoundError(self.name, source) from exc
            raise StorageDriverError(self.name, source, str(exc)) from exc
        await self.call(self.client.delete_object, Bucket=self.bucket, Key=src_key)

    async def delete(self, path: str) -> None:
        key = self._key(path)
        keys = [o["Key"] for page in await self._pages(key + "/") for o in page.get("Contents", [])]
        try:
            await self.call(self.client.head_object, Bucket=self.bucket, Key=key)
            keys.append(key)
        except ClientError as exc:
            if _error_code(exc) not in _NOT_FOUND:
                raise StorageDriverError(self.name, path, str(exc)) from exc
        if not keys:
            raise PathNotFoundError(self.name, path)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            await self.call(
                self.client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
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
