"""What every form that writes through a service does the same way (the registries' and ledgers' pages):
check the login and the CSRF token, call the service, and show the page with the result or the refusal; and read
an import's file (a new upload, or the previewed bytes the confirm form carries back)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from fastapi import Request, UploadFile
from fastapi.responses import Response

from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem
from citycarbon.web.app import login_redirect, render, web_state
from citycarbon.web.security import CsrfError, check_csrf

__all__ = ["form_write", "refused", "upload_content"]


def refused(request: Request, session: Any, kind: str, status_code: int) -> Response:
    """The error page of a refusal (``kind``: not_found, forbidden, csrf …)."""
    return render(request, "error.html", {"error_kind": kind}, session=session, status_code=status_code)


def form_write(request: Request, session: Any, csrf_token: str, write: Callable[[Any], Any],
               page: Callable[..., Response], *, conflicts: bool = False,
               after: Callable[[Request], None] | None = None) -> Response:
    """Check the session and CSRF token, call ``write(db)`` and show ``page`` with the result. Forbidden and
    NotFound show the error page (403, 404: another unit's object is not leaked); bad input shows ``page`` with
    the problems (422); with ``conflicts``, a Conflict shows ``page`` with its message (409). ``after`` runs
    after a successful write (e.g. refreshing a cache)."""
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return refused(request, session, "csrf", 403)
    try:
        result = write(web_state(request).db())
    except Forbidden:
        return refused(request, session, "forbidden", 403)
    except NotFound:
        return refused(request, session, "not_found", 404)
    except InputError as error:
        return page(request, session, problems=error.problems, status_code=422)
    except Conflict as error:
        if not conflicts:
            raise
        return page(request, session, refusal=error.message, status_code=409)
    if after is not None:
        after(request)
    return page(request, session, result=result)


async def upload_content(file: UploadFile | None, content_b64: str, filename: str, *,
                         max_bytes: int) -> tuple[bytes, str]:
    """The file of an import form and its name: a new upload (at most ``max_bytes``), or the previewed bytes the
    confirm form carries back (base64). Nothing chosen, or too large: InputError naming ``file``."""
    if file is not None and file.filename:
        content = await file.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise InputError(Problem(f"the file is larger than {max_bytes // 1_000_000} MB", field="file",
                                     message_zh=f"文件超过 {max_bytes // 1_000_000} MB", file=file.filename))
        return content, file.filename.rsplit("/", 1)[-1][:200]
    if content_b64:
        try:
            return base64.b64decode(content_b64, validate=True), (filename or "upload")[:200]
        except (binascii.Error, ValueError):
            pass
    raise InputError(Problem("choose a file to import", message_zh="请选择要导入的文件", field="file"))
