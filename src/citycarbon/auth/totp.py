"""Time-based one-time passwords (RFC 6238, via pyotp): secrets, enrolment URIs, verification (pure; no DB).

Verification accepts the current 30-second step and one step either side (clock drift of an authenticator
app), and refuses any step not later than the last one accepted for that user: a code seen by a shoulder
surfer or a proxy log cannot be used a second time (RFC 6238 §5.2).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pyotp

ISSUER = "citycarbon"
STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1


def new_secret() -> str:
    """A fresh base32 secret (160 bits, RFC 4226 §4 recommends ≥ 128)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app imports (the web shows it as text)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=username,
                                                                                     issuer_name=issuer)


def step_at(when: datetime) -> int:
    """The RFC 6238 time step (counter) of an instant; naive datetimes are taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp()) // STEP_SECONDS


def code_at(secret: str, when: datetime) -> str:
    """The code an authenticator app shows at ``when`` (tests, and the enrolment check)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step_at(when))


def verify_code(secret: str, code: str, when: datetime, last_step: int | None = None,
                window: int = WINDOW) -> int | None:
    """The step ``code`` belongs to if it is valid at ``when`` (± ``window`` steps) and later than
    ``last_step``; ``None`` otherwise. Store the returned step as the user's new ``last_step``."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now_step = step_at(when)
    matched: int | None = None
    for step in range(now_step - window, now_step + window + 1):
        # compare every candidate (no early exit) so the time taken does not depend on which one matched
        if hmac.compare_digest(totp.generate_otp(step), code) and matched is None:
            matched = step
    if matched is None or (last_step is not None and matched <= last_step):
        return None
    return matched
