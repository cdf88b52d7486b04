"""Pure ASGI middleware: request id, timing + access log, security headers, request-size limit.

Strict-Transport-Security is sent only on HTTPS requests (:func:`is_https`), never over plain HTTP (RFC 6797
§7.2: a host must not send it over an insecure transport).

Written as raw ASGI (not ``BaseHTTPMiddleware``) so streaming bodies are checked as they arrive and the
per-request overhead stays small (the status endpoints answer in a few milliseconds).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from citycarbon.api.logging import request_logger

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Content-Security-Policy: everything from the app itself; no inline script, no external origin
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def security_headers(hsts: bool = False) -> list[tuple[bytes, bytes]]:
    """The headers every answer carries; ``hsts`` adds Strict-Transport-Security (only for an HTTPS request:
    :func:`is_https`)."""
    headers = [(b"content-security-policy", CSP.encode()),
               (b"x-content-type-options", b"nosniff"),
               (b"x-frame-options", b"DENY"),
               (b"referrer-policy", b"no-referrer"),
               (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
               (b"cross-origin-opener-policy", b"same-origin")]
    if hsts:
        headers.append(HSTS)
    return headers


def is_https(scope: Scope, trust_proxy_headers: bool) -> bool:
    """Whether the client reached us over HTTPS: the connection itself (``scope["scheme"]``, which uvicorn's
    ``--proxy-headers`` already rewrites for its ``--forwarded-allow-ips``), or — only when the deployment says
    it runs behind the documented proxy (``CITYCARBON_TRUST_PROXY_HEADERS=1``) — the proxy's
    ``X-Forwarded-Proto`` (its first value). A client's own ``X-Forwarded-Proto`` is ignored otherwise."""
    if scope.get("scheme") == "https":
        return True
    if not trust_proxy_headers:
        return False
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-proto":
            return value.split(b",")[0].strip().lower() == b"https"
    return False


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in; an HTTPException so FastAPI's body parsing passes it through."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body over {limit} bytes")


def _too_large(limit: int) -> bytes:
    return json.dumps({"error": {"code": "payload_too_large", "message": f"request body over {limit} bytes",
                                 "problems": []}}).encode()


class RequestMiddleware:
    """Request id (``X-Request-ID``), security headers, body-size limit (413), the access log line, and
    ``Server-Timing: app;dur=<ms>`` (time until the response started; the benchmark reads it)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, hsts: bool, trust_proxy_headers: bool = False):
        self.app = app
        self.max_body = max_body_bytes
        self.headers = security_headers()
        self.hsts = hsts  # HSTS allowed at all (Secure cookies); sent only on HTTPS requests
        self.trust_proxy_headers = trust_proxy_headers
        self.log = request_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        status_holder = {"status": 500, "started": False}
        extra_headers = [*self.headers, (b"x-request-id", request_id.encode())]
        if self.hsts and is_https(scope, self.trust_proxy_headers):
            extra_headers.append(HSTS)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                elapsed = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in extra_headers if k not in present],
                                      (b"server-timing", f"app;dur={elapsed:.2f}".encode())]
            await send(message)

        length = _content_length(scope)
        try:
            if length is not None and length > self.max_body:
                await self._reject(send_wrapper)
            else:
                await self.app(scope, self._limited(receive), send_wrapper)
        except BodyTooLarge:
            if status_holder["started"]:
                raise
            await self._reject(send_wrapper)
        finally:
            state = scope.get("state", {})
            principal = state.get("principal")
            client = scope.get("client")
            self.log.info("request", extra={
                "request_id": request_id, "method": scope.get("method"), "path": scope.get("path"),
                "status": status_holder["status"], "ms": round((time.perf_counter() - started) * 1000, 2),
                "user": getattr(principal, "username", None), "client": client[0] if client else None})

    async def _reject(self, send: Send) -> None:
        body = _too_large(self.max_body)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _limited(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return wrapped


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
