"""The demo board over HTTP: a starlette app that answers like Kanboard's /jsonrpc.php.

HTTP Basic auth (user `jsonrpc` + the app token, or a user whose password is their username),
HTTP 401/403 with Kanboard's bodies (id null), JSON-RPC errors as HTTP 200 with Kanboard's codes and
texts, batches, notifications (empty body), and GET answered with a parse error. The procedures
themselves live in `procedures`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .board import DemoBoard
from .procedures import dispatch
from .rpc import Caller, ForbiddenError, InvalidParamsError, MethodNotFoundError

__all__ = ["create_app"]

_UNAUTHORIZED = {"jsonrpc": "2.0", "error": {"code": 401, "message": "Unauthorized"}, "id": None}
_FORBIDDEN = {"jsonrpc": "2.0", "error": {"code": 403, "message": "Forbidden"}, "id": None}


def create_app(board: DemoBoard, token: str) -> Starlette:
    """A Kanboard-compatible JSON-RPC app serving `board`, accepting `token` as the app API token."""

    async def jsonrpc(request: Request) -> Response:
        caller = _caller(request.headers.get("authorization", ""), board, token)
        if caller is None:
            return JSONResponse(
                _UNAUTHORIZED, status_code=401, headers={"WWW-Authenticate": 'Basic realm="JsonRPC"'}
            )
        if request.method != "POST":
            return JSONResponse(_error(-32700, "Parse error", None))
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return JSONResponse(_error(-32700, "Parse error", None))
        try:
            if isinstance(payload, list):
                answers = [answer for item in payload if (answer := _handle(board, item, caller)) is not None]
                result: Any = answers if payload else _error(-32600, "Invalid Request", None)
            else:
                result = _handle(board, payload, caller)
        except ForbiddenError:
            return JSONResponse(_FORBIDDEN, status_code=403)
        if result is None or result == []:
            return Response(b"", media_type="application/json")
        return JSONResponse(result)

    app = Starlette(routes=[Route("/jsonrpc.php", jsonrpc, methods=["GET", "POST"])])
    app.state.board = board
    return app


def _error(code: int, message: str, request_id: Any, data: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "error": error, "id": request_id}


def _handle(board: DemoBoard, message: Any, caller: Caller) -> dict[str, Any] | None:
    """One JSON-RPC request → its response, or None for a notification."""
    if (
        not isinstance(message, dict)
        or message.get("jsonrpc") != "2.0"
        or not isinstance(message.get("method"), str)
    ):
        return _error(-32600, "Invalid Request", None)
    request_id = message.get("id")
    try:
        result = dispatch(board, message["method"], message.get("params"), caller)
    except MethodNotFoundError:
        response = _error(-32601, "Method not found", request_id)
    except InvalidParamsError as exc:
        response = _error(-32602, "Invalid params", request_id, str(exc))
    else:
        response = {"jsonrpc": "2.0", "result": result, "id": request_id}
    return response if "id" in message else None


def _caller(header: str, board: DemoBoard, token: str) -> Caller | None:
    """Who the Basic auth header names, or None when the credentials are wrong or missing."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if username == "jsonrpc":
        return Caller() if hmac.compare_digest(password.encode(), token.encode()) else None
    for user in board.users.values():
        if user["username"] == username and user.get("is_active", 1) and password == username:
            return Caller(user["id"])
    return None
