"""Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph's RGW, Garage, …) through
aiobotocore (docs/dependencies.md): object ``<room id>/<blob id>`` in ``[chat] s3_bucket``, which
must exist. Uploads stream: a blob of up to PART_BYTES goes up in one PutObject, a larger one as a
multipart upload of PART_BYTES parts, so that at most one part is in memory; an upload that fails
is aborted. Downloads stream from the object's body. Path-style addresses and Signature V4, which
every S3-compatible store takes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from rathaus.chat.blobs import BLOB_ID, READ_BYTES, BlobMissing

PART_BYTES = 8 * 1024 * 1024  # S3's parts: at least 5 MiB, but the last
MISSING = ("NoSuchKey", "404", "NotFound")


class S3Blobs:
    def __init__(
        self, *, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str
    ) -> None:
        self.bucket = bucket
        self._options: dict[str, Any] = {
            "endpoint_url": endpoint,
            "region_name": region,
            "aws_access_key_id": access_key or None,
            "aws_secret_access_key": secret_key or None,
            "config": AioConfig(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                # Checksums only when S3 demands one: other stores refuse the newer headers.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        }
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._lock = asyncio.Lock()

    @staticmethod
    def key(room_id: int, blob_id: str) -> str:
        if BLOB_ID.fullmatch(blob_id) is None:
            raise BlobMissing(blob_id)
        return f"{int(room_id)}/{blob_id}"

    async def _s3(self) -> Any:
        """The client, made at first use (one connection pool for the process)."""
        async with self._lock:
            if self._client is None:
                client = get_session().create_client("s3", **self._options)
                self._client = await self._stack.enter_async_context(client)
        return self._client

    async def write(self, room_id: int, blob_id: str, chunks: AsyncIterator[bytes]) -> int:
        key = self.key(room_id, blob_id)
        s3 = await self._s3()
        where = {"Bucket": self.bucket, "Key": key}
        buffer = bytearray()
        size = 0
        upload: str | None = None
        parts: list[dict[str, Any]] = []

        async def send_part(body: bytes) -> None:
            number = len(parts) + 1
            answer = await s3.upload_part(**where, UploadId=upload, PartNumber=number, Body=body)
            parts.append({"ETag": answer["ETag"], "PartNumber": number})

        try:
            async for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                while len(buffer) >= PART_BYTES:
                    if upload is None:
                        upload = (await s3.create_multipart_upload(**where))["UploadId"]
                    part = bytes(buffer[:PART_BYTES])
                    del buffer[:PART_BYTES]
                    await send_part(part)
            if upload is None:
                await s3.put_object(**where, Body=bytes(buffer))
            else:
                if buffer:
                    await send_part(bytes(buffer))
                await s3.complete_multipart_upload(
                    **where, UploadId=upload, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            if upload is not None:
                with contextlib.suppress(Exception):
                    await s3.abort_multipart_upload(**where, UploadId=upload)
            raise
        return size

    async def open(self, room_id: int, blob_id: str) -> AsyncIterator[bytes]:
        s3 = await self._s3()
        try:
            answer = await s3.get_object(Bucket=self.bucket, Key=self.key(room_id, blob_id))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING:
                raise BlobMissing(blob_id) from None
            raise
        return _body(answer["Body"])

    async def delete(self, room_id: int, blob_id: str) -> None:
        with contextlib.suppress(BlobMissing):
            key = self.key(room_id, blob_id)
            s3 = await self._s3()
            await s3.delete_object(Bucket=self.bucket, Key=key)  # none there: S3 says 204 too

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None


async def _body(body: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in body.iter_chunks(READ_BYTES):
            yield chunk
    finally:
        body.close()
