"""Frames in and out: parse a client frame into a :class:`Request`, encode the replies.

Parsing is strict and never raises anything but :class:`RequestError`, so one hostile
frame costs one error response and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.backends.reference import protocol

RequestId = int | str


class RequestError(Exception):
    """A request the server answers with ``ok: false``; ``close_code`` also ends the link."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        close_code: int | None = None,
        request_id: RequestId | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    id: RequestId
    method: str
    data: dict[str, Any]


def parse(frame: str | bytes) -> Request:
    """Validate the envelope; the method's own arguments are checked by its handler.

    A rejection carries the frame's ``request_id`` when it had a usable one.
    """
    if isinstance(frame, bytes):
        raise RequestError(protocol.E_BAD_REQUEST, "binary frames are not supported")
    try:
        obj = json.loads(frame)
    except (ValueError, RecursionError) as exc:
        raise RequestError(protocol.E_BAD_REQUEST, "invalid JSON") from exc
    if not isinstance(obj, dict):
        raise RequestError(protocol.E_BAD_REQUEST, "a request must be a JSON object")
    rid = obj.get("id")
    # bool is an int subclass, but true/false as an id is a client bug worth reporting.
    if isinstance(rid, bool) or not isinstance(rid, int | str):
        raise RequestError(protocol.E_BAD_REQUEST, "'id' must be an integer or a string")
    method, data = obj.get("method"), obj.get("data")
    if not isinstance(method, str):
        raise _addressed(rid, protocol.E_BAD_REQUEST, "'method' must be a string")
    if not isinstance(data, dict):
        raise _addressed(rid, protocol.E_BAD_REQUEST, "'data' must be a JSON object")
    if method not in protocol.REQUESTS:
        raise _addressed(rid, protocol.E_UNKNOWN_METHOD, f"unknown method {method[:64]!r}")
    return Request(rid, method, data)


def _addressed(rid: RequestId, code: str, message: str) -> RequestError:
    return RequestError(code, message, request_id=rid)


def ok(rid: RequestId, data: dict[str, Any]) -> str:
    return json.dumps({"id": rid, "ok": True, "data": data})


def error(rid: RequestId | None, code: str, message: str) -> str:
    return json.dumps({"id": rid, "ok": False, "error": {"code": code, "message": message}})


def notification(method: str, data: dict[str, Any]) -> str:
    return json.dumps({"notification": True, "method": method, "data": data})


def text_arg(data: dict[str, Any], key: str, *, choices: frozenset[str] | None = None) -> str:
    """A required non-empty string argument of a request, or a ``bad_request``."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise RequestError(protocol.E_BAD_REQUEST, f"{key!r} must be a non-empty string")
    if choices is not None and value not in choices:
        raise RequestError(protocol.E_BAD_REQUEST, f"{key!r} must be one of {sorted(choices)}")
    return value
