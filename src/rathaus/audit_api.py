"""Administrators read the moderation audit log."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from rathaus.accounts.api import require_admin
from rathaus.audit import AuditLog

router = APIRouter(prefix="/api", tags=["operations"])


class AuditOut(BaseModel):
    at: datetime
    room: str
    actor: str
    action: str
    target: str | None


@router.get("/audit")
async def audit_log(
    request: Request,
    room: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[AuditOut]:
    await require_admin(request)
    log: AuditLog = request.app.state.audit
    return [AuditOut(**vars(entry)) for entry in await log.recent(limit, room)]
