"""``citycarbon users …``: the first admin, users, API tokens (for an IT department at a terminal).

One-time passwords and tokens are printed once, on stdout, and never stored in the clear; a reminder goes to
stderr. Every write is audited with the actor ``cli:<operating-system user>``. The database is the one the
settings name (``CITYCARBON_HOME`` / ``CITYCARBON_DATABASE_URL``), migrated first if it is behind.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError

users_app = typer.Typer(help="Users, roles and API tokens (用户、角色与访问令牌).", no_args_is_help=True)

SHOWN_ONCE = "保存好：它只显示这一次 / keep it safe: it is shown only this once"


def cli_actor() -> str:
    """``cli:<os user>``: who the audit log says acted."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        name = f"uid{os.getuid()}"
    return f"cli:{name}"


@contextmanager
def _store() -> Iterator[object]:
    """A session on the configured database (migrated first if needed); commits when the block succeeds."""
    from citycarbon.settings import Settings
    from citycarbon.store.db import Database

    database = Database(Settings.from_env())
    try:
        if not database.is_current():
            database.upgrade()
        with database.session() as session:
            yield session
    finally:
        database.dispose()


def _admin_totp_required() -> bool:
    from citycarbon.settings import Settings

    return Settings.from_env().require_admin_totp


def _secret_out(record: dict, secret_key: str, fmt: OutputFormat, title: str) -> None:
    emit(record, fmt, rows=[record], title=title)
    typer.echo(f"{secret_key}: {SHOWN_ONCE}", err=True)


def _user_rows(views: list[dict]) -> list[dict]:
    return [{**v, "regions": " ".join(v["regions"])} for v in views]


@users_app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option("--username", help="the admin's login name")] = "admin",
    reset: Annotated[bool, typer.Option("--reset", help="give an existing admin a new one-time password")] = False,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create the first admin and print its one-time password (to be changed at first login)."""
    from citycarbon.store import users

    try:
        with _store() as session:
            user, one_time = users.create_admin(session, username=username, actor=cli_actor(), reset=reset)
            record = {"username": user.username, "role": user.role, "one_time_password": one_time,
                      "must_change_password": True, "totp_required": _admin_totp_required()}
    except InputError as error:
        fail(error)
        return
    _secret_out(record, "one_time_password", fmt, "管理员 / admin")


@users_app.command("add")
def add(
    username: Annotated[str, typer.Option("--username", help="login name (a-z 0-9 . _ @ -)")],
    role: Annotated[str, typer.Option("--role", help="admin | analyst | district | enterprise | viewer")],
    region: Annotated[list[str] | None, typer.Option("--region", help="GB/T 2260 code (district users; repeat)")]
    = None,
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="enterprise id (enterprise users)")] = None,
    display_name: Annotated[str, typer.Option("--display-name", help="name shown in the web")] = "",
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Add a user and print a one-time password (changed at first login)."""
    from citycarbon.store import users

    try:
        with _store() as session:
            user, one_time = users.create_user(session, username=username, role=role, regions=region or (),
                                               enterprise_id=enterprise, display_name=display_name,
                                               actor=cli_actor())
            record = {**users.user_view(user), "one_time_password": one_time}
    except InputError as error:
        fail(error)
        return
    row = {key: record[key] for key in ("username", "role", "regions", "enterprise_id", "one_time_password")}
    emit(record, fmt, rows=_user_rows([row]), title="新用户 / new user")
    typer.echo(f"one_time_password: {SHOWN_ONCE}", err=True)


@users_app.command("list")
def list_users(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Every user with role, regions, enterprise and state (never a password or secret)."""
    from citycarbon.store import users

    with _store() as session:
        views = [users.user_view(u) for u in users.list_users(session)]
    emit({"users": views}, fmt, rows=_user_rows(views), title="用户 / users")


def _change_user(username: str, change: Callable[[object, object], None], fmt: OutputFormat) -> None:
    """Apply ``change(session, user)`` to one user in one transaction and show the user afterwards."""
    from citycarbon.store import users

    try:
        with _store() as session:
            user = users.require_user(session, username)
            change(session, user)
            view = users.user_view(user)
    except InputError as error:
        fail(error)
        return
    emit(view, fmt, rows=_user_rows([view]), title="用户 / user")


def _set_disabled(username: str, disabled: bool, reason: str | None, fmt: OutputFormat) -> None:
    from citycarbon.store import users

    _change_user(username, lambda session, user: users.update_user(
        session, user, disabled=disabled, actor=cli_actor(), reason=reason), fmt)


@users_app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Disable a user: logins, web sessions and API tokens stop working."""
    _set_disabled(username, True, reason, fmt)


@users_app.command("enable")
def enable(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, False, reason, fmt)


@users_app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Give a user a new one-time password (also lifts a lockout and ends their web sessions)."""
    from citycarbon.store import users

    try:
        with _store() as session:
            user = users.require_user(session, username)
            one_time = users.reset_password(session, user, actor=cli_actor(), reason=reason)
            record = {"username": user.username, "one_time_password": one_time, "must_change_password": True}
    except InputError as error:
        fail(error)
        return
    _secret_out(record, "one_time_password", fmt, "重置密码 / password reset")


@users_app.command("unlock")
def unlock(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Lift a lockout after too many failed logins (check with the user first)."""
    from citycarbon.store import users

    _change_user(username, lambda session, user: users.unlock_user(
        session, user, actor=cli_actor(), reason=reason), fmt)


@users_app.command("reset-totp")
def reset_totp(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Switch a user's two-factor login off (lost phone); admins must enrol again at their next login."""
    from citycarbon.store import users

    _change_user(username, lambda session, user: users.reset_totp(
        session, user, actor=cli_actor(), reason=reason), fmt)


@users_app.command("token")
def token(
    username: Annotated[str, typer.Option("--username", help="whose token")],
    scope: Annotated[str, typer.Option("--scope", help="read | write")],
    name: Annotated[str, typer.Option("--name", help="what the token is for")] = "",
    expires_days: Annotated[int | None, typer.Option("--expires-days", min=1, help="expire after D days")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Issue an API bearer token and print it once (only its hash is stored)."""
    from citycarbon.store import users
    from citycarbon.store.types import utcnow

    now = utcnow()
    expires_at = now + timedelta(days=expires_days) if expires_days else None
    try:
        with _store() as session:
            user = users.require_user(session, username)
            plaintext = users.issue_token(session, user, scope, name, actor=cli_actor(), expires_at=expires_at,
                                          now=now)
            record = {"username": user.username, "scope": scope, "name": name, "prefix": plaintext.split("_")[1],
                      "expires_at": expires_at.isoformat() if expires_at else None, "token": plaintext}
    except InputError as error:
        fail(error)
        return
    _secret_out(record, "token", fmt, "访问令牌 / API token")


@users_app.command("tokens")
def tokens(
    username: Annotated[str | None, typer.Argument(help="login name (all users' tokens when left out)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List API tokens (prefix, scope, name, dates; never the token)."""
    from citycarbon.store import users

    try:
        with _store() as session:
            user = users.require_user(session, username) if username else None
            names = {u.id: u.username for u in users.list_users(session)}
            views = [{"username": names.get(t.user_id), **users.token_view(t)}
                     for t in users.list_tokens(session, user)]
    except InputError as error:
        fail(error)
        return
    emit({"tokens": views}, fmt, rows=views, title="访问令牌 / API tokens")


@users_app.command("revoke-token")
def revoke_token(
    prefix: Annotated[str, typer.Argument(help="the token's prefix (the 8 characters after cc_)")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Revoke an API token at once."""
    from citycarbon.store import users

    try:
        with _store() as session:
            view = users.token_view(users.revoke_token(session, prefix, actor=cli_actor(), reason=reason))
    except InputError as error:
        fail(error)
        return
    emit(view, fmt, rows=[view], title="已撤销 / revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
