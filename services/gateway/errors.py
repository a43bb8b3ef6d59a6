"""The one error shape of the API: {"error": {"code", "message", "field"?}}."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import OutOfMemoryError
from starlette.exceptions import HTTPException as StarletteHTTPException

from storage.failures import STORE_UNREACHABLE

logger = logging.getLogger("commentstream.gateway")
STORE_FULL_RETRY_SECONDS = 5

# How each rejection code of the decider (or processor) answers over HTTP.
REJECTION_STATUS = {
    "invalid_command": 422,
    "parent_not_found": 422,
    "parent_deleted": 409,
    "comment_not_found": 404,
    "comment_deleted": 409,
    "not_author": 403,
    "edit_window_closed": 403,
    "not_moderator": 403,
    "banned": 403,
    "thread_locked": 409,
    "banned_words": 422,
    "disposable_email": 422,
    "duplicate": 409,
    "not_top_level": 409,
    "not_published": 409,
    "ban_not_found": 404,
    "invalid_until": 422,
    "reserved_thread": 422,
    "processing_failed": 503,
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers


def error_body(code: str, message: str, field: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(error.code, error.message, error.field), error.status, headers=error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        location = [str(part) for part in first.get("loc", ())]
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:]
        field = ".".join(location) or None
        message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
        if first.get("type") == "json_invalid":
            return JSONResponse(error_body("invalid_json", "the body is not valid JSON"), 400)
        return JSONResponse(
            error_body("invalid_field", message if field else f"request: {message}", field), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(error_body(code, str(error.detail)), error.status_code)

    async def redis_down(_: Request, error: Exception) -> JSONResponse:
        logger.warning("Redis unavailable: %s", error)
        return JSONResponse(
            error_body("unavailable", "the store is unavailable; try again shortly"),
            503,
            headers={"Retry-After": "2"},
        )

    for unreachable in STORE_UNREACHABLE:
        app.add_exception_handler(unreachable, redis_down)

    @app.exception_handler(OutOfMemoryError)
    async def store_full(_: Request, error: Exception) -> JSONResponse:
        logger.warning("Redis refuses writes: %s", error)
        return JSONResponse(
            error_body(
                "store_full", "the store is full and takes no writes now; try again shortly"
            ),
            503,
            headers={"Retry-After": str(STORE_FULL_RETRY_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error", exc_info=error)
        return JSONResponse(error_body("internal", "an unexpected error occurred"), 500)
