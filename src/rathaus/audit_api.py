"""Administrators read the audit log."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from rathaus.accounts.api import require_admin
from rathaus.audit import AuditLog, PartyRole
from rathaus.services import services

router = APIRouter(prefix="/api", tags=["operations"])


class AuditPartyOut(BaseModel):
    """Who acted or was acted on: the account and role are the server's, the name is only a
    display name (whatever it says)."""

    model_config = ConfigDict(from_attributes=True)

    user_id: int | None = Field(description="the account; null for guests")
    role: PartyRole | None = Field(
        description="the capacity in which they acted or were acted on; null only in entries "
        "from before the parties were recorded apart whose old label could not be read"
    )
    name: str = Field(description="the display name, as text")


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    room: str
    actor: AuditPartyOut
    action: str
    target: AuditPartyOut | None
    detail: str | None = Field(description="what the server adds, e.g. a guest link's expiry")


@router.get("/audit")
async def audit_log(
    request: Request,
    room: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[AuditOut]:
    await require_admin(request)
    log: AuditLog = services(request).audit
    return [AuditOut.model_validate(entry) for entry in await log.recent(limit, room)]
