"""Ingest: sensor readings in batches and inbound webhooks, both becoming rule triggers.

Callers are integrators (gateways, ERP/MES) with an API key whose role holds the grant
`system / ingest / create`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from engine.api.deps import PrincipalDep, SessionDep, SiteDep, require
from engine.api.errors import ERRORS
from engine.runtime.ingest import MAX_BATCH, ingest_readings, receive_webhook

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"], responses=ERRORS,
                   dependencies=[Depends(require("system", "create", "ingest"))])


class ReadingIn(BaseModel):
    metric: str = Field(description="Metric name rules refer to, e.g. gas_holder_pressure")
    source: str = Field(description="The instrument or point, e.g. GH-1")
    value: float
    at: datetime | None = Field(default=None, description="When measured (ISO 8601 with offset); default: now")


class ReadingsIn(BaseModel):
    readings: list[ReadingIn] = Field(max_length=MAX_BATCH)


class Accepted(BaseModel):
    accepted: int


@router.post("/readings", response_model=Accepted, status_code=202,
             summary="Store a batch of sensor readings; each one is a `sensor.reading` rule trigger")
def post_readings(body: ReadingsIn, session: SessionDep, site: SiteDep) -> Accepted:
    return Accepted(accepted=ingest_readings(session, site, [r.model_dump() for r in body.readings]))


@router.post("/webhooks/{name}", response_model=Accepted, status_code=202,
             summary="Receive an inbound webhook; rules `when webhook \"name\"` react to its JSON body")
def post_webhook(name: str, session: SessionDep, site: SiteDep, principal: PrincipalDep,
                 body: Any = Body(default=None)) -> Accepted:
    receive_webhook(session, site, name, body, actor_id=principal.user_id)
    return Accepted(accepted=1)
