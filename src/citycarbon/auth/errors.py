"""Why a login or a credential was refused: :class:`AuthError` with a stable machine code.

Codes (the API and the web map them to responses; the message is safe to show to the caller):

``bad_credentials``           unknown user or wrong password (one message for both, so a caller cannot probe
                              which usernames exist)
``locked``                    too many failures; locked for a while (same wording as ``bad_credentials``, and
                              unknown usernames lock too, so a lockout does not reveal that the user exists)
``rate_limited``              too many attempts from this client for this username in a short time
``totp_required``             password right, the account has two-factor login: ask for the 6-digit code
``totp_invalid``              the two-factor code is wrong, outside the ±30 s window, or already used
``password_change_required``  password right, but it is a one-time password: the user must choose a new one
``totp_enrollment_required``  password right, an admin without two-factor login must enrol before anything else
``disabled``                  the account is disabled

Bad input to the user functions (an unknown role or region) is an :class:`~citycarbon.errors.InputError`;
a new password that breaks the policy a :class:`~citycarbon.auth.passwords.PasswordPolicyError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from citycarbon.auth import messages

AUTH_ERROR_CODES: tuple[str, ...] = (
    "bad_credentials",
    "locked",
    "rate_limited",
    "totp_required",
    "totp_invalid",
    "password_change_required",
    "totp_enrollment_required",
    "disabled",
)

#: one message for unknown user, wrong password and lockout (a lockout must not reveal that the user exists)
BAD_CREDENTIALS_MESSAGE = messages.text("bad_credentials")


@dataclass(frozen=True)
class LoginChallenge:
    """Credentials were right but a step is pending before the user may do anything else.

    ``kind`` is ``"password_change"`` or ``"totp_enrollment"``. The web keeps it in a *pending* login session
    (see :func:`citycarbon.store.users.create_session`) that grants no access until the step is done.
    """

    user_id: int
    username: str
    kind: str


class AuthError(Exception):
    """A refused login or credential operation; ``code`` is one of :data:`AUTH_ERROR_CODES`."""

    def __init__(self, code: str, message: str, *, challenge: LoginChallenge | None = None,
                 retry_after_s: float | None = None, message_code: str | None = None):
        if code not in AUTH_ERROR_CODES:
            raise ValueError(f"unknown auth error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.challenge = challenge
        self.retry_after_s = retry_after_s
        #: the code of ``message`` in :data:`citycarbon.auth.messages.MESSAGES` (what the faces translate)
        self.message_code = message_code or ("bad_credentials" if code == "locked" else code)

    def __repr__(self) -> str:
        return f"AuthError({self.code!r}, {self.message!r})"
