"""HTTP API of the chat's attachments (rules: attachments.py): upload a blob to a room, download
it, delete it; and how large one may be. Bytes travel raw (application/octet-stream), streamed."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from rathaus.accounts.api import require_member
from rathaus.chat.attachments import Attachments
from rathaus.errors import ClientError, ErrorCode
from rathaus.services import services

router = APIRouter(prefix="/api/chat", tags=["chat"])

UPLOAD = ("POST", "/api/chat/rooms/{slug}/blobs")  # bodylimit.py: the attachments' own limit
BLOB_TYPE = "application/octet-stream"
BINARY = {BLOB_TYPE: {"schema": {"type": "string", "format": "binary"}}}


class UnsupportedMediaType(ClientError):
    code = ErrorCode.BAD_REQUEST
    status = 415


class BlobOut(BaseModel):
    blob: str
    size: int


class LimitsOut(BaseModel):
    max_bytes: int  # the largest blob (an encrypted file)


def attachments(request: Request) -> Attachments:
    found: Attachments = services(request).attachments
    return found


def _declared(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


@router.get("/attachments/limits")
async def limits(request: Request) -> LimitsOut:
    """How large a blob may be: a browser checks before it encrypts a file."""
    await require_member(request)
    return LimitsOut(max_bytes=attachments(request).max_bytes)


@router.post(
    "/rooms/{slug}/blobs",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": {"required": True, "content": BINARY}},
)
async def upload(request: Request, slug: str) -> BlobOut:
    """An encrypted file, its raw bytes the body: the new blob's id and size. For the room's
    members."""
    signed_in = await require_member(request)
    service = attachments(request)
    room = await service.chat.rooms.get(slug)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != BLOB_TYPE:
        raise UnsupportedMediaType(f"an attachment is sent as {BLOB_TYPE}")
    blob = await service.upload(room, signed_in.user, request.stream(), _declared(request))
    return BlobOut(blob=blob.id, size=blob.size)


@router.get(
    "/rooms/{slug}/blobs/{blob_id}",
    response_class=StreamingResponse,
    responses={200: {"content": BINARY}},
)
async def download(request: Request, slug: str, blob_id: str) -> StreamingResponse:
    """A blob's bytes, for the room's members (anyone else: 404, as for no such blob)."""
    signed_in = await require_member(request)
    service = attachments(request)
    room = await service.chat.rooms.get(slug)
    blob, body = await service.download(room, signed_in.user, blob_id)
    return StreamingResponse(
        body,
        media_type=BLOB_TYPE,
        headers={
            "Content-Length": str(blob.size),
            "Cache-Control": "private, no-store",
            "Content-Disposition": "attachment",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.delete("/rooms/{slug}/blobs/{blob_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(request: Request, slug: str, blob_id: str) -> None:
    """Deletes a blob: its uploader's, or any for the room's moderators."""
    signed_in = await require_member(request)
    service = attachments(request)
    room = await service.chat.rooms.get(slug)
    await service.delete(room, signed_in.user, blob_id)
