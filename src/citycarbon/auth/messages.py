"""What the user and login functions tell people, as codes (pure; no DB, no web).

Each code maps to an English message template (a gettext msgid with ``%(name)s`` placeholders). The store and
the services raise :class:`~citycarbon.errors.InputError` / :class:`~citycarbon.auth.errors.AuthError` carrying
the code, its parameters and the English text; each face translates the msgid through the Babel catalogs
(``web/i18n/<locale>/LC_MESSAGES/users.po``, zh_CN and en) with :func:`citycarbon.web.i18n.translate` and fills
in the parameters. A test checks that every msgid here has a zh_CN translation.
"""

from __future__ import annotations

from citycarbon.errors import Problem

#: code -> English msgid (gettext; placeholders are ``%(name)s``)
MESSAGES: dict[str, str] = {
    # users and tokens (InputError)
    "username_not_text": "the username must be text",
    "username_invalid": "a username has 1 to %(max)s characters from a-z, 0-9 and . _ @ - and starts with a "
                        "letter or digit",
    "role_unknown": "unknown role %(role)s; expected one of %(roles)s",
    "region_unknown": "unknown district or county code %(region)s (GB/T 2260, codelists/regions.csv)",
    "district_needs_region": "a district user needs at least one region code",
    "regions_only_for_district": "only district users are bound to regions",
    "enterprise_needs_id": "an enterprise user needs an enterprise id",
    "enterprise_only_for_enterprise": "only enterprise users are bound to an enterprise",
    "department_needs_org": "a department user needs an organisation code",
    "org_only_for_department": "only department users are bound to an organisation",
    "org_unknown": "no organisation %(org)s in the city's governance registry",
    "enterprise_id_invalid": "an enterprise id has at most 64 characters from letters, digits and . _ -",
    "enterprise_unknown": "no enterprise %(enterprise)s in the monitoring registry",
    "username_taken": "the username %(username)s already exists",
    "user_unknown": "no user %(username)s",
    "admin_exists_not_admin": "the user %(username)s exists and is not an admin",
    "admin_exists": "the admin %(username)s already exists; pass --reset to give it a new one-time password",
    "last_admin": "the last enabled admin cannot be disabled or given another role",
    "totp_already_enabled": "two-factor login is already enabled; an admin must reset it first",
    "totp_nothing_to_confirm": "no two-factor enrolment to confirm",
    "scope_unknown": "unknown scope %(scope)s; expected one of %(scopes)s",
    "viewer_write_token": "a viewer cannot hold a write token",
    "account_disabled": "the account is disabled",
    "expiry_in_past": "the expiry must lie in the future",
    "expiry_days_range": "days valid must be 1 to 3650",
    "token_unknown": "no token with prefix %(prefix)s",
    "nothing_to_change": "nothing to change: give role, regions, enterprise_id, display_name or disabled",
    "passwords_differ": "the two new passwords differ",
    "password_too_short": "the password must have at least %(min)s characters (it has %(length)s)",
    "password_too_long": "the password must have at most %(max)s characters",
    "password_is_username": "the password must not be the username",
    "password_contains_username": "the password must not contain the username",
    "password_repeated": "the password must not repeat a single character",
    "password_common": "this password is too common and easy to guess",
    "password_same": "the new password must differ from the current one",
    # logins (AuthError)
    "bad_credentials": "wrong username or password, or the account is temporarily locked after repeated "
                       "failures; try again later",
    "rate_limited": "too many attempts; wait a minute and try again",
    "disabled": "this account is disabled; ask an administrator",
    "totp_required": "enter the 6-digit code from your authenticator app",
    "totp_invalid": "the code is wrong, expired or already used",
    "password_change_required": "choose a new password before continuing",
    "totp_enrollment_required": "an administrator must set up two-factor login before continuing",
    "current_password_wrong": "the current password is wrong",
    # permissions (services/users.py)
    "forbidden_manage_users": "only an administrator with write access manages users",
    "forbidden_token_by_token": "tokens are issued from a login session, not with another token",
    "forbidden_write_token": "this role may not hold a write token",
}


def text(message_code: str, **params: object) -> str:
    """The English message of ``message_code`` with its parameters filled in."""
    template = MESSAGES[message_code]
    return template % {key: _shown(value) for key, value in params.items()} if params else template


def _shown(value: object) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


def problem(message_code: str, *, field: str | None = None, value: object = None, suggestion: str | None = None,
            **params: object) -> Problem:
    """A :class:`Problem` carrying ``message_code`` and ``params`` (the faces translate it) and the English text."""
    return Problem(text(message_code, **params), field=field, value=value, suggestion=suggestion, code=message_code,
                   params={key: _shown(v) for key, v in params.items()})
