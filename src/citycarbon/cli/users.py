"""``citycarbon users …``: the first admin, users, API tokens (for an IT department at a terminal).

One-time passwords and tokens are printed once, on stdout, and never stored in the clear; a reminder goes to
stderr. Every command calls :mod:`citycarbon.services.users` (the functions the API and the web call) as
:func:`~citycarbon.services.users.cli_principal`; every write is audited with the actor ``cli:<operating-system
user>``. The database is the one the
settings name (``CITYCARBON_HOME`` / ``CITYCARBON_DATABASE_URL``), migrated first if it is behind.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail
from citycarbon.errors import InputError

if TYPE_CHECKING:
    from citycarbon.settings import Settings
    from citycarbon.store.db import Database

_T = TypeVar("_T")

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
def _service() -> Iterator[tuple[Database, Settings]]:
    """``(database, settings)`` of the configured store (migrated first if needed)."""
    from citycarbon.settings import Settings
    from citycarbon.store.db import Database

    settings = Settings.from_env()
    database = Database(settings)
    try:
        if not database.is_current():
            database.upgrade()
        yield database, settings
    finally:
        database.dispose()


def _me():
    from citycarbon.services.users import cli_principal

    return cli_principal(cli_actor())


def cli_locale(env: dict[str, str] | None = None) -> str:
    """The language of the terminal's messages: ``zh_CN`` when ``LC_ALL``/``LC_MESSAGES``/``LANG`` says Chinese,
    else English."""
    env = dict(os.environ if env is None else env)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return "zh_CN" if value.lower().startswith("zh") else "en"
    return "en"


def _translated(error: InputError) -> InputError:
    """The error with each coded problem translated through the Babel catalogs into the terminal's language."""
    from dataclasses import replace

    from citycarbon.web.i18n import translate_problem

    locale = cli_locale()
    return InputError([replace(p, message=translate_problem(locale, p)) if p.code else p for p in error.problems])


def _run(call: Callable[[Database, Settings], _T]) -> _T:
    """``call(database, settings)`` with the CLI's refusals: bad input and unknown names exit with 2, their
    message in the terminal's language."""
    from citycarbon.services.users import Forbidden, NotFound

    try:
        with _service() as (database, settings):
            return call(database, settings)
    except InputError as error:
        fail(_translated(error))
    except NotFound as error:
        fail(_translated(InputError(error.problem)))
    except Forbidden as error:
        fail(error)
    raise AssertionError("unreachable")


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
    from citycarbon.services import users

    created = _run(lambda db, _: users.create_admin(db, _me(), username=username, reset=reset))
    record = {"username": created.user.username, "role": created.user.role,
              "one_time_password": created.one_time_password, "must_change_password": True,
              "totp_required": _admin_totp_required()}
    _secret_out(record, "one_time_password", fmt, "管理员 / admin")


@users_app.command("add")
def add(
    username: Annotated[str, typer.Option("--username", help="login name (a-z 0-9 . _ @ -)")],
    role: Annotated[str, typer.Option("--role", help="admin | analyst | district | enterprise | viewer | department")],
    region: Annotated[list[str] | None, typer.Option("--region", help="GB/T 2260 code (district users; repeat)")]
    = None,
    enterprise: Annotated[str | None, typer.Option(
        "--enterprise", help="enterprise id of the monitoring registry (enterprise users)")] = None,
    display_name: Annotated[str, typer.Option("--display-name", help="name shown in the web")] = "",
    org: Annotated[str | None, typer.Option(
        "--org", help="organisation code of the governance registry (department users; "
                      "citycarbon governance orgs list)")] = None,
    email: Annotated[str | None, typer.Option(
        "--email", help="e-mail address for the inbox's messages (sent when SMTP is configured)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Add a user and print a one-time password (changed at first login). A department user is bound to
    --org, an organisation of the governance registry."""
    from citycarbon.services import users

    created = _run(lambda db, _: users.create_user(db, _me(), username=username, role=role, regions=region or (),
                                                   enterprise_id=enterprise, display_name=display_name, org=org,
                                                   email=email))
    record = {**created.user.as_dict(), "one_time_password": created.one_time_password}
    row = {key: record[key] for key in ("username", "role", "regions", "enterprise_id", "org", "one_time_password")}
    emit(record, fmt, rows=_user_rows([row]), title="新用户 / new user")
    typer.echo(f"one_time_password: {SHOWN_ONCE}", err=True)


@users_app.command("list")
def list_users(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Every user with role, regions, enterprise and state (never a password or secret)."""
    from citycarbon.services import users

    views = [u.as_dict() for u in _run(lambda db, _: users.list_users(db, _me()))]
    emit({"users": views}, fmt, rows=_user_rows(views), title="用户 / users")


def _show_user(info, fmt: OutputFormat) -> None:
    view = info.as_dict()
    emit(view, fmt, rows=_user_rows([view]), title="用户 / user")


@users_app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Disable a user: logins, web sessions and API tokens stop working."""
    from citycarbon.services import users

    _show_user(_run(lambda db, _: users.set_disabled(db, _me(), username, True, reason=reason)), fmt)


@users_app.command("enable")
def enable(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Enable a disabled user again."""
    from citycarbon.services import users

    _show_user(_run(lambda db, _: users.set_disabled(db, _me(), username, False, reason=reason)), fmt)


@users_app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Give a user a new one-time password (also lifts a lockout and ends their web sessions)."""
    from citycarbon.services import users

    reset = _run(lambda db, _: users.reset_password(db, _me(), username, reason=reason))
    record = {"username": reset.user.username, "one_time_password": reset.one_time_password,
              "must_change_password": True}
    _secret_out(record, "one_time_password", fmt, "重置密码 / password reset")


@users_app.command("unlock")
def unlock(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Lift a lockout after too many failed logins (check with the user first)."""
    from citycarbon.services import users

    _show_user(_run(lambda db, _: users.unlock_user(db, _me(), username, reason=reason)), fmt)


@users_app.command("reset-totp")
def reset_totp(
    username: Annotated[str, typer.Argument(help="login name")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Switch a user's two-factor login off (lost phone); admins must enrol again at their next login."""
    from citycarbon.services import users

    _show_user(_run(lambda db, _: users.reset_totp(db, _me(), username, reason=reason)), fmt)


@users_app.command("rotate-totp-key")
def rotate_totp_key(
    new_key: Annotated[bool, typer.Option(
        "--new-key/--no-new-key",
        help="put a fresh key first in the key file (--no-new-key: keys come from CITYCARBON_TOTP_KEYS, "
             "where you put the new one first)")] = True,
    drop_old: Annotated[bool, typer.Option(
        "--drop-old-keys", help="afterwards keep only the newest key in the key file")] = False,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Re-encrypt every stored TOTP secret with the newest key (secrets stored in the clear: encrypted)."""
    from citycarbon.services import users

    result = _run(lambda db, settings: users.rotate_totp_key(db, settings, _me(), new_key=new_key,
                                                             drop_old=drop_old))
    record = {"secrets": result.secrets, "keys": result.keys, "key_file": result.key_file}
    emit(record, fmt, rows=[record], title="TOTP 密钥轮换 / TOTP key rotation")


@users_app.command("token")
def token(
    username: Annotated[str, typer.Option("--username", help="whose token")],
    scope: Annotated[str, typer.Option("--scope", help="read | write")],
    name: Annotated[str, typer.Option("--name", help="what the token is for")] = "",
    expires_days: Annotated[int | None, typer.Option("--expires-days", min=1, help="expire after D days")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Issue an API bearer token and print it once (only its hash is stored)."""
    from citycarbon.services import users

    issued = _run(lambda db, _: users.issue_token(db, _me(), username=username, scope=scope, name=name,
                                                  expires_days=expires_days))
    record = {"username": issued.info.username, "scope": scope, "name": name, "prefix": issued.info.prefix,
              "expires_at": issued.info.expires_at, "token": issued.token}
    _secret_out(record, "token", fmt, "访问令牌 / API token")


@users_app.command("tokens")
def tokens(
    username: Annotated[str | None, typer.Argument(help="login name (all users' tokens when left out)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List API tokens (prefix, scope, name, dates; never the token)."""
    from citycarbon.services import users

    found = _run(lambda db, _: users.list_tokens(db, _me(), username, everyone=username is None))
    views = [{"username": t.username, **{k: v for k, v in t.as_dict().items() if k != "username"}} for t in found]
    emit({"tokens": views}, fmt, rows=views, title="访问令牌 / API tokens")


@users_app.command("revoke-token")
def revoke_token(
    prefix: Annotated[str, typer.Argument(help="the token's prefix (the 8 characters after cc_)")],
    reason: Annotated[str | None, typer.Option("--reason", help="why (kept in the audit log)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Revoke an API token at once."""
    from citycarbon.services import users

    view = _run(lambda db, _: users.revoke_token(db, _me(), prefix, reason=reason)).as_dict()
    view.pop("username", None)
    emit(view, fmt, rows=[view], title="已撤销 / revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
