"""The S3 driver: paths are object keys below `s3://bucket/prefix`, through boto3.

boto3 is synchronous, so every call runs in a worker thread (`asyncio.to_thread`).
Credentials come from the standard AWS chain (environment, shared files, instance roles).

Writing goes through `S3Writer` sessions (multipart uploads any hub process can resume, see
`registry.storage.driver.s3writer`); readers see the bytes only once a writer commits.

Directories are implied by key prefixes, as in every object store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
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
from registry.storage.driver.s3writer import (
    MAX_COPY_PART,
    SESSION_MARK,
    SESSION_SUFFIX,
    S3Writer,
    discard_session,
    head_session,
)

logger = logging.getLogger(__name__)

__all__ = ["S3Config", "S3Driver"]

MIN_PART_SIZE = 5 * 1024 * 1024  # bytes; S3's minimum for every part but the last
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
    # Bytes a writer may hold in memory when told the file's size, to store it with one PUT
    # (straight at its final key for a monolithic blob push) instead of parts and a copy.
    single_put_max: int = 64 * 1024 * 1024
    max_connections: int = 32  # HTTP connection pool size of the boto3 client


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


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

    def key_of(self, path: str) -> str:
        """The object key of a storage path.

        Raises:
            InvalidPathError: the path does not match `PATH_RE`.
        """
        if not PATH_RE.fullmatch(path) or ".." in path.split("/"):
            raise InvalidPathError(self.name, path)
        return f"{self.prefix}/{path}" if self.prefix else path

    def _path_of(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    async def _get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return await self.call(
                self.client.get_object, Bucket=self.bucket, Key=self.key_of(path), **kwargs
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
        await self.call(
            self.client.put_object, Bucket=self.bucket, Key=self.key_of(path), Body=data
        )

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

    async def writer(
        self, path: str, append: bool = False, expected_size: int | None = None
    ) -> S3Writer:
        return await S3Writer(self, path, self.key_of(path), expected_size).open(append)

    async def object_size(self, key: str) -> int | None:
        """The size of the committed object at `key` (one HEAD), or None when there is none."""
        try:
            head = await self.call(self.client.head_object, Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return None
            raise StorageDriverError(self.name, key, str(exc)) from exc
        return int(head["ContentLength"])

    async def stat(self, path: str) -> FileInfo:
        key = self.key_of(path)
        session = await head_session(self, key)
        if session is not None:  # an unfinished writer session: its bytes count
            return FileInfo(path, session.size, False, session.mtime)
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
        prefix = self.key_of(path) + "/"
        children: set[str] = set()
        for page in await self._pages(prefix, "/"):
            prefixes = page.get("CommonPrefixes", [])
            children.update(self._path_of(p["Prefix"].rstrip("/")) for p in prefixes)
            children.update(
                self._path_of(o["Key"].split(SESSION_MARK)[0]) for o in page.get("Contents", [])
            )
        if not children:
            raise PathNotFoundError(self.name, path)
        return sorted(children)

    async def copy_key(self, src_key: str, dst_key: str, size: int | None = None) -> None:
        """Copy one object to another key inside S3.

        Args:
            size: the source's size when the caller knows it (saves a HEAD).

        Raises:
            PathNotFoundError: nothing at `src_key`.
        """
        copy_source = {"Bucket": self.bucket, "Key": src_key}
        try:
            if size is None:
                head = await self.call(self.client.head_object, Bucket=self.bucket, Key=src_key)
                size = int(head["ContentLength"])
            if size <= MAX_COPY_PART:
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
                raise PathNotFoundError(self.name, self._path_of(src_key)) from exc
            raise StorageDriverError(self.name, self._path_of(src_key), str(exc)) from exc

    async def delete_keys(self, keys: Sequence[str]) -> None:
        """Delete objects by key; keys that do not exist are no error."""
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            await self.call(
                self.client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )

    async def move(self, source: str, dest: str) -> None:
        src_key = self.key_of(source)
        await self.copy_key(src_key, self.key_of(dest))
        await self.call(self.client.delete_object, Bucket=self.bucket, Key=src_key)

    async def delete(self, path: str) -> None:
        key = self.key_of(path)
        # One listing finds the object itself, its writer session and everything below it.
        keys = [
            o["Key"]
            for page in await self._pages(key)
            for o in page.get("Contents", [])
            if o["Key"] in (key, key + SESSION_SUFFIX) or o["Key"].startswith(key + "/")
        ]
        if not keys:
            raise PathNotFoundError(self.name, path)
        for session_key in [k for k in keys if k.endswith(SESSION_SUFFIX)]:
            owner = session_key.removesuffix(SESSION_SUFFIX)
            session = await head_session(self, owner)
            if session is not None and session.upload_id:
                await discard_session(self, owner, session.upload_id)
        await self.delete_keys(keys)

    def local_path(self, path: str) -> Path | None:
        return None

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        if not self.config.redirect or method != "GET":
            return None
        return await self.call(
            self.client.generate_presigned_url,
            ClientMethod="get_object",
            Params={"Bucket": self.bucket, "Key": self.key_of(path)},
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
