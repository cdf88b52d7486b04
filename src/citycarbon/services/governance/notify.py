"""Notifications: the in-app inbox (``gov_notifications``), and e-mail when SMTP is configured.

Other governance services call :func:`post` inside their write transaction; the message is a catalog key with
parameters, rendered in the reader's language when shown. Delivery by e-mail happens after commit (see
``deliver_pending``, added with the inbox faces)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from citycarbon.store.governance_models import GovNotification

__all__ = ["post"]


def post(session: Session, city: str, *, kind: str, message: str, params: dict[str, Any] | None = None,
         org_code: str | None = None, user_id: int | None = None, link: str = "") -> GovNotification:
    """Queue a message for every user of ``org_code`` (or for one user). ``message`` is a catalog key."""
    if org_code is None and user_id is None:
        raise ValueError("a notification needs a recipient organisation or user")
    row = GovNotification(city=city, org_code=org_code, user_id=user_id, kind=kind, message=message,
                          params=dict(params or {}), link=link)
    session.add(row)
    session.flush()
    return row
