"""The in-app inbox of running the plan (issue 14 item 8), and its delivery by e-mail when SMTP is configured.

A caller's inbox holds the messages addressed to the caller (``user_id``) and to the caller's organisation: a
department user's ``org``, a district user's district and pilot-zone organisations (by region code), the office's
for administrators. ``mark_read`` marks some or all of them read (only the caller's own; another's is 404).

``deliver_pending`` (run after the writes, e.g. from cron: ``citycarbon governance inbox --deliver``) e-mails every
message not e-mailed yet to its recipients that have an e-mail address (``users.email``) and stamps ``emailed_at``.
Without ``CITYCARBON_SMTP_HOST`` it returns at once and connects nowhere; an SMTP failure is logged and the
messages stay pending for the next run (it never raises).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.settings import Settings
from citycarbon.store import audit
from citycarbon.store.auth_models import User
from citycarbon.store.db import Database
from citycarbon.store.governance_models import GovNotification, GovOrg
from citycarbon.store.types import utcnow

__all__ = ["Delivery", "Message", "deliver_pending", "list_messages", "mark_read", "render_message",
           "unread_count"]

log = logging.getLogger(__name__)

LEVEL = {"reminder": ("提醒", "reminder"), "notice": ("督办通知", "supervision notice"),
         "interview": ("约谈", "interview")}
#: message key → (Chinese, English) text with ``{params}``; other parts add their keys here or pass
#: ``text_zh``/``text_en`` in the params
MESSAGES: dict[str, tuple[str, str]] = {
    "supervision_created": ("新的督办事项（{level_zh}）：{round} {measure} {doc_number}",
                            "New supervision item ({level_en}): {round} {measure} {doc_number}"),
    "supervision_escalated": ("督办事项升级为{level_zh}：{round} {measure} {doc_number}",
                              "Supervision item escalated to {level_en}: {round} {measure} {doc_number}"),
    "supervision_answered": ("{org_name}已答复督办事项（{level_zh}）：{measure}",
                             "{org_name} answered a supervision item ({level_en}): {measure}"),
    "supervision_closed": ("督办事项已办结：{measure}", "Supervision item closed: {measure}"),
}


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    message: str
    text_zh: str
    text_en: str
    params: dict[str, Any]
    link: str
    created_at: str
    read: bool
    to_org: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Delivery:
    sent: int  # e-mails sent
    messages: int  # messages stamped emailed_at
    pending: int  # left for the next run (no address yet, or SMTP failed)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render_message(key: str, params: dict[str, Any], orgs: dict[str, str] | None = None) -> tuple[str, str]:
    """(Chinese, English) text of a message; unknown keys fall back to ``text_zh``/``text_en`` params."""
    values = _Missing({k: "" if v is None else v for k, v in params.items()})
    zh_level, en_level = LEVEL.get(str(params.get("level", "")), ("", ""))
    values.update(level_zh=zh_level, level_en=en_level,
                  org_name=(orgs or {}).get(str(params.get("org", "")), str(params.get("org", ""))))
    zh, en = MESSAGES.get(key, (str(params.get("text_zh") or "新通知"), str(params.get("text_en") or "New message")))
    return " ".join(zh.format_map(values).split()), " ".join(en.format_map(values).split())


def _my_orgs(session: Session, principal: Principal, city: str) -> list[str]:
    rows = list(session.scalars(select(GovOrg).where(GovOrg.city == city, GovOrg.valid_to.is_(None))))
    if principal.role is Role.department and principal.org:
        return [principal.org]
    if principal.role is Role.district:
        return [r.code for r in rows if r.region_code and r.region_code in principal.regions]
    if principal.role is Role.admin:
        return [r.code for r in rows if r.kind == "office"]
    return []


def _mine(session: Session, principal: Principal, city: str) -> Any:
    orgs = _my_orgs(session, principal, city)
    who = GovNotification.user_id == principal.user_id
    if orgs:
        who = or_(who, GovNotification.org_code.in_(orgs))
    return (GovNotification.city == city) & who


def _require_city(principal: Principal, city: str) -> None:
    if not principal.can_access_city(city):
        raise Forbidden(f"you are scoped to city '{principal.city}', not '{city}'", code="city_scope")


def list_messages(db: Database, principal: Principal, city: str, *, unread_only: bool = False,
                  limit: int = 200) -> list[Message]:
    """The caller's messages, newest first."""
    _require_city(principal, city)
    with db.session() as session:
        names = {r.code: r.name_zh for r in session.scalars(select(GovOrg).where(GovOrg.city == city,
                                                                                 GovOrg.valid_to.is_(None)))}
        statement = select(GovNotification).where(_mine(session, principal, city))
        if unread_only:
            statement = statement.where(GovNotification.read_at.is_(None))
        rows = session.scalars(statement.order_by(GovNotification.id.desc()).limit(max(1, min(limit, 1000))))
        out = []
        for row in rows:
            zh, en = render_message(row.message, dict(row.params or {}), names)
            out.append(Message(row.id, row.kind, row.message, zh, en, dict(row.params or {}), row.link,
                               row.created_at.isoformat(), row.read_at is not None, row.org_code))
    return out


def unread_count(db: Database, principal: Principal, city: str) -> int:
    """How many of the caller's messages are unread (the nav badge)."""
    if not principal.can_access_city(city):
        return 0
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(GovNotification).where(
            _mine(session, principal, city), GovNotification.read_at.is_(None))).scalar_one())


def mark_read(db: Database, principal: Principal, city: str, ids: list[int] | None = None) -> int:
    """Mark the caller's messages ``ids`` (None: all unread) read; another's message is 404. Audited."""
    _require_city(principal, city)
    with db.session(write=True) as session:
        mine = _mine(session, principal, city)
        if ids is not None:
            if not ids:
                raise InputError(Problem(message="choose the messages to mark read",
                                         message_zh="请选择要标为已读的通知", field="ids"))
            found = list(session.scalars(select(GovNotification).where(mine, GovNotification.id.in_(ids))))
            if len(found) != len(set(ids)):
                raise NotFound("message not found")
        else:
            found = list(session.scalars(select(GovNotification).where(mine, GovNotification.read_at.is_(None))))
        if not principal.can_write:
            raise Forbidden("a read-only token does not change the inbox", code="read_only")
        now = utcnow()
        changed = [row.id for row in found if row.read_at is None]
        for row in found:
            row.read_at = row.read_at or now
        session.flush()
        if changed:
            audit.record(session, principal, "read", "gov_notification", ",".join(map(str, changed[:50])),
                         after={"read": len(changed)})
    return len(changed)


# ---- e-mail --------------------------------------------------------------------------------------------------

def _recipients(session: Session, row: GovNotification) -> list[str]:
    users: list[User] = []
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        users = [user] if user is not None else []
    elif row.org_code:
        org = session.scalars(select(GovOrg).where(GovOrg.city == row.city, GovOrg.code == row.org_code,
                                                   GovOrg.valid_to.is_(None))).one_or_none()
        candidates = session.scalars(select(User).where(User.disabled.is_(False), User.email.is_not(None)))
        for user in candidates:
            if user.city not in (None, row.city):
                continue
            if user.org_code == row.org_code or (
                    org is not None and org.region_code and user.role == "district"
                    and org.region_code in user.regions) or (
                    org is not None and org.kind == "office" and user.role == "admin"):
                users.append(user)
    return sorted({u.email for u in users if u.email and not u.disabled})


def deliver_pending(db: Database, settings: Settings | None = None, *, now: datetime | None = None,
                    connect: Callable[[Settings], smtplib.SMTP] | None = None, limit: int = 500) -> Delivery:
    """E-mail the messages not e-mailed yet (see the module's text). Never raises for an SMTP failure."""
    settings = settings or db.settings
    if not settings.smtp_host or not settings.smtp_from:
        return Delivery(0, 0, 0, None)
    with db.session() as session:
        pending = list(session.scalars(select(GovNotification).where(GovNotification.emailed_at.is_(None))
                                       .order_by(GovNotification.id).limit(limit)))
        names: dict[tuple[str, str], str] = {}
        work: list[tuple[int, list[str], str, str, str]] = []
        for row in pending:
            if (row.city, "") not in names:
                names[(row.city, "")] = ""
                for org in session.scalars(select(GovOrg).where(GovOrg.city == row.city, GovOrg.valid_to.is_(None))):
                    names[(row.city, org.code)] = org.name_zh
            city_names = {code: name for (city, code), name in names.items() if city == row.city and code}
            zh, en = render_message(row.message, dict(row.params or {}), city_names)
            work.append((row.id, _recipients(session, row), zh, en, row.link))
    todo = [w for w in work if w[1]]
    if not todo:
        return Delivery(0, 0, len(work), None)
    sent, done, error = 0, [], None
    try:
        server = connect(settings) if connect else smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
        with server:
            if settings.smtp_starttls:
                server.starttls()
            if settings.smtp_user:
                server.login(settings.smtp_user, settings.smtp_password or "")
            for message_id, addresses, zh, en, link in todo:
                mail = EmailMessage()
                mail["From"] = settings.smtp_from
                mail["To"] = ", ".join(addresses)
                mail["Subject"] = f"[碳达峰调度] {zh}"
                mail.set_content(f"{zh}\n{en}\n\n{link}\n", charset="utf-8")
                server.send_message(mail)
                sent += len(addresses)
                done.append(message_id)
    except (OSError, smtplib.SMTPException) as failure:  # logged; the rest stays pending for the next run
        error = f"{type(failure).__name__}: {failure}"
        log.warning("governance inbox: e-mail delivery failed (%s); %d message(s) left pending", error,
                    len(todo) - len(done))
    if done:
        stamp = now or utcnow()
        with db.session(write=True) as session:
            for row in session.scalars(select(GovNotification).where(GovNotification.id.in_(done))):
                row.emailed_at = stamp
    return Delivery(sent, len(done), len(work) - len(done), error)
