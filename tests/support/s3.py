"""A local S3-compatible server for the tests of the S3 blob store: moto's S3 (PyPI `moto`,
threaded Werkzeug server) on a free loopback port, and an aiobotocore client to look into it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiobotocore.session import get_session
from moto.server import ThreadedMotoServer

ACCESS_KEY = "rathaus-test"
SECRET_KEY = "rathaus-test-secret"
REGION = "eu-central-1"


@dataclass
class LocalS3:
    endpoint: str
    bucket: str
    client: Any  # aiobotocore's S3 client

    def settings(self) -> dict[str, Any]:
        """The `[chat]` settings of a Rathaus that keeps its blobs here."""
        return {
            "blob_store": "s3",
            "s3_endpoint": self.endpoint,
            "s3_bucket": self.bucket,
            "s3_access_key": ACCESS_KEY,
            "s3_secret_key": SECRET_KEY,
            "s3_region": REGION,
        }

    async def objects(self) -> dict[str, bytes]:
        """Every object in the bucket: key → bytes."""
        found: dict[str, bytes] = {}
        listed = await self.client.list_objects_v2(Bucket=self.bucket)
        for item in listed.get("Contents", []):
            got = await self.client.get_object(Bucket=self.bucket, Key=item["Key"])
            async with got["Body"] as body:
                found[item["Key"]] = await body.read()
        return found

    async def unfinished_uploads(self) -> list[str]:
        listed = await self.client.list_multipart_uploads(Bucket=self.bucket)
        return [u["Key"] for u in listed.get("Uploads", [])]


@asynccontextmanager
async def local_s3(bucket: str = "rathaus-blobs") -> AsyncIterator[LocalS3]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        async with get_session().create_client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        ) as client:
            await client.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
            yield LocalS3(endpoint, bucket, client)
    finally:
        server.stop()
