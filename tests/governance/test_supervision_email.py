"""E-mail delivery of the inbox against a local SMTP server the test starts (aiosmtpd): sent once to the
unit's users with an address, stamped, never raised on failure, and nothing at all without SMTP settings."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
from datetime import date

import pytest

from citycarbon.auth.principal import Principal, Role
from citycarbon.services.governance import inbox
from citycarbon.services.governance import supervision as svc
from citycarbon.store import users
from tests.governance.test_supervision_services import make_round

ADMIN = Principal(1, "office", Role.admin)


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self) -> None:
            self.messages: list[tuple[list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def _with_people(db):
    with db.session() as session:
        user, _ = users.create_user(session, username="miit-mail", role="department", org_code="miit", actor="t")
        user.email = "miit@example.org"
        _other, _ = users.create_user(session, username="eco-nomail", role="department", org_code="eco", actor="t")
    make_round(db)
    svc.scan(db, ADMIN, "dalian", today=date(2026, 10, 20))


def test_pending_messages_are_emailed_once(sqlite_db, smtp_server):
    port, handler = smtp_server
    _with_people(sqlite_db)
    settings = dataclasses.replace(sqlite_db.settings, smtp_host="127.0.0.1", smtp_port=port,
                                   smtp_from="office@example.org")
    first = inbox.deliver_pending(sqlite_db, settings)
    assert (first.sent, first.messages, first.pending, first.error) == (1, 1, 1, None)  # eco has no address yet
    rcpts, content = handler.messages[0]
    assert rcpts == ["miit@example.org"]
    mail = email.message_from_bytes(content, policy=email.policy.default)
    assert "新的督办事项（督办通知）" in str(mail["Subject"]) and "/governance/supervision/" in mail.get_content()
    assert inbox.deliver_pending(sqlite_db, settings).sent == 0  # stamped: not sent twice
    assert len(handler.messages) == 1


def test_smtp_failure_is_logged_and_retried(sqlite_db, smtp_server, caplog):
    port, handler = smtp_server
    _with_people(sqlite_db)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    broken = dataclasses.replace(sqlite_db.settings, smtp_host="127.0.0.1", smtp_port=dead, smtp_from="o@e.org")
    failed = inbox.deliver_pending(sqlite_db, broken)
    assert failed.messages == 0 and failed.error and "delivery failed" in caplog.text
    working = dataclasses.replace(broken, smtp_port=port)
    assert inbox.deliver_pending(sqlite_db, working).messages == 1 and len(handler.messages) == 1


def test_no_smtp_no_connection(sqlite_db, monkeypatch):
    _with_people(sqlite_db)

    def refuse(*args, **kwargs):
        raise AssertionError("connected without SMTP settings")

    monkeypatch.setattr("smtplib.SMTP", refuse)
    assert inbox.deliver_pending(sqlite_db, sqlite_db.settings) == inbox.Delivery(0, 0, 0, None)


def test_smtp_settings_from_the_environment():
    from citycarbon.settings import Settings

    found = Settings.from_env({"CITYCARBON_SMTP_HOST": "mail.example.org", "CITYCARBON_SMTP_PORT": "587",
                               "CITYCARBON_SMTP_FROM": "o@example.org", "CITYCARBON_SMTP_STARTTLS": "1",
                               "CITYCARBON_SMTP_PASSWORD": "s3cret"})
    assert (found.smtp_host, found.smtp_port, found.smtp_starttls) == ("mail.example.org", 587, True)
    assert "s3cret" not in repr(found)
    assert Settings.from_env({}).smtp_host is None
    with pytest.raises(ValueError, match="PORT"):
        Settings.from_env({"CITYCARBON_SMTP_PORT": "mail"})


def test_the_admin_sets_a_users_email(sqlite_db):
    from citycarbon.errors import InputError
    from citycarbon.services import users as user_service

    with sqlite_db.session() as session:
        users.create_user(session, username="eco-2", role="department", org_code="eco", actor="t")
    info = user_service.update_user(sqlite_db, ADMIN, "eco-2", {"email": " eco@example.org "})
    assert info.email == "eco@example.org"
    with pytest.raises(InputError) as bad:
        user_service.update_user(sqlite_db, ADMIN, "eco-2", {"email": "not an address"})
    assert bad.value.problems[0].field == "email"
    assert user_service.update_user(sqlite_db, ADMIN, "eco-2", {"email": ""}).email is None
