"""Datasets for integrators: POST a dataset definition, get typed JSON rows back — the same SQL
a dashboard widget runs, with the caller's permission scope applied."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine.api.deps import LocaleDep, PrincipalDep, SessionDep, SiteDep
from engine.api.errors import ERRORS
from engine.reports import Dataset, QueryContext, RowFilter, Viewer, periods, run_dataset
from engine.reports.dataset import RangeSpec

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"], responses=ERRORS)


class DatasetQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: Dataset
    range: RangeSpec | None = Field(default=None, description="Overrides the dataset's range")
    department: int | None = Field(default=None, description="Only this department and those below it")
    explain: bool = Field(default=False, description="Also return the SQL that ran")


class ColumnOut(BaseModel):
    key: str
    role: str = Field(description="dimension | measure")
    type: str = Field(description="text | number | integer | boolean | date | datetime")
    label: str
    labels: dict[str, str] | None = Field(default=None, description="Display labels of dimension values")
    format: str | None = None
    bucket: str | None = None
    unit: str | None = None
    field: str | None = None


class DatasetOut(BaseModel):
    columns: list[ColumnOut]
    rows: list[list[Any]]
    period: dict[str, str] | None = Field(default=None, description="The date range applied (local dates)")
    sql: str | None = None


@router.post("/query", response_model=DatasetOut, summary="Run a dataset: typed JSON in, typed JSON out")
def query(body: DatasetQueryIn, session: SessionDep, site: SiteDep, principal: PrincipalDep,
          locale: LocaleDep) -> DatasetOut:
    now = site.clock.now()
    filters = []
    if body.range is not None:
        filters.append(RowFilter("period", periods.resolve(body.range, now.astimezone(site.settings.tz).date())))
    if body.department is not None:
        filters.append(RowFilter("department", body.department))
    ctx = QueryContext(now=now, tz=site.settings.tz, viewer=Viewer(principal), filters=filters)
    result = run_dataset(session, body.dataset, ctx, with_sql=body.explain)
    out = result.to_dict(locale)
    return DatasetOut(columns=[ColumnOut(**c) for c in out["columns"]], rows=out["rows"], period=out.get("period"),
                      sql=result.sql)
