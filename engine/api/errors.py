"""Every error as JSON with a stable code and a message in the request's locale.

Shape: {"error": {"code": "...", "message": "...", "problems": [{"path", "line", "column",
"code", "message"}]}}. Pydantic's request validation errors are translated into the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine import i18n
from engine.errors import Problem, SafeFlowError

log = logging.getLogger("safeflow.api")


class ProblemBody(BaseModel):
    code: str
    message: str
    severity: str = "error"
    file: str | None = None
    path: str | None = None
    line: int | None = None
    column: int | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    problems: list[ProblemBody] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


# For route decorators: `responses=ERRORS` documents the typed error shape in OpenAPI.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (401, "Not authenticated"),
        (403, "Not allowed"),
        (404, "Not found"),
        (409, "Conflict (e.g. a stale row version)"),
        (422, "Invalid input: every problem, located"),
    )
}


def _locale(request: Request) -> str:
    from engine.api.deps import get_locale

    return get_locale(request)


def _respond(request: Request, error: SafeFlowError) -> JSONResponse:
    return JSONResponse(status_code=error.status, content={"error": error.to_dict(_locale(request))},
                        headers={"WWW-Authenticate": "Bearer"} if error.status == 401 else None)


_PYDANTIC_CODES = {
    "missing": "request.missing",
    "extra_forbidden": "request.extra",
    "json_invalid": "request.bad_json",
}


def _validation_problems(exc: RequestValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        code = _PYDANTIC_CODES.get(err.get("type", ""), "request.invalid_value")
        problems.append(Problem(code, {"detail": err.get("msg", ""), "expected": err.get("ctx", {})},
                                path=".".join(loc) or None))
    return problems


def install(app: FastAPI) -> None:
    @app.exception_handler(SafeFlowError)
    async def _safeflow(request: Request, exc: SafeFlowError) -> JSONResponse:
        return _respond(request, exc)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return _respond(request, SafeFlowError("error.stale", status=409))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _respond(request, SafeFlowError("error.invalid", problems=_validation_problems(exc), status=422))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "error.route_not_found", 405: "error.method_not_allowed"}
        error = SafeFlowError(codes.get(exc.status_code, "error.bad_request"), status=exc.status_code,
                              path=request.url.path)
        return _respond(request, error)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _respond(request, SafeFlowError("error.internal", status=500))


i18n.register_messages(
    {
        "request.missing": {"zh-CN": "缺少必填项", "en": "Field required"},
        "request.extra": {"zh-CN": "不允许的字段", "en": "Unexpected field"},
        "request.bad_json": {"zh-CN": "请求体不是有效的 JSON：{detail}", "en": "Invalid JSON: {detail}"},
        "request.invalid_value": {"zh-CN": "值无效：{detail}", "en": "Invalid value: {detail}"},
        "error.stale": {
            "zh-CN": "数据已被他人修改，请刷新后重试",
            "en": "Someone else changed this meanwhile; reload and try again",
        },
        "error.route_not_found": {"zh-CN": "接口不存在：{path}", "en": "No such endpoint: {path}"},
        "error.method_not_allowed": {"zh-CN": "不支持该请求方法：{path}", "en": "Method not allowed: {path}"},
    }
)
