"""API bearer tokens and login-session identifiers (pure; no DB).

An API token reads ``cc_<prefix>_<secret>``: ``prefix`` (8 hex characters) names the token in lists and
in ``citycarbon users revoke-token PREFIX``; ``secret`` is 32 random bytes (URL-safe base64). The store keeps
only the prefix and the SHA-256 of the whole token, so a database leak does not leak usable tokens; the
plaintext is shown once, when the token is issued. SHA-256 (not argon2) is right here: the secret has
256 bits of entropy, nothing to brute-force, and every API request must check it quickly.

Login sessions use the same idea: the cookie holds a random identifier, the store its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "cc"
TOKEN_SECRET_BYTES = 32
_TOKEN_RE = re.compile(r"^cc_(?P<prefix>[0-9a-f]{8})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewToken:
    """A freshly generated token: ``plaintext`` to show once; ``prefix`` and ``digest`` to store."""

    plaintext: str
    prefix: str
    digest: str


def digest(value: str) -> str:
    """Hex SHA-256 of a token or session identifier (what the store keeps)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def generate_api_token() -> NewToken:
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(TOKEN_SECRET_BYTES)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    return NewToken(plaintext, prefix, digest(plaintext))


def parse_api_token(token: str) -> str | None:
    """The prefix of a well-formed token, or ``None`` (a malformed token is never looked up)."""
    match = _TOKEN_RE.match(token.strip()) if isinstance(token, str) else None
    return match.group("prefix") if match else None


def token_matches(token: str, stored_digest: str) -> bool:
    """Constant-time comparison of a presented token with the stored digest."""
    return hmac.compare_digest(digest(token.strip()), stored_digest)


def generate_session_id() -> str:
    """The random identifier a session cookie carries (256 bits)."""
    return secrets.token_urlsafe(32)


def generate_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, presented: str | None) -> bool:
    """Constant-time check of a form's or header's CSRF token against the session's."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())
