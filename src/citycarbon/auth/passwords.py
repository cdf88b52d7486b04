"""Password hashing (argon2id), the password policy and one-time passwords (pure; no DB).

* Hashes: argon2-cffi's :class:`~argon2.PasswordHasher` with its defaults (argon2id, RFC 9106 low-memory
  profile). :func:`needs_rehash` says when a stored hash was made with other parameters, so the login
  upgrades it transparently.
* Policy: at least 12 characters (NIST SP 800-63B §5.1.1.2 asks ≥ 8; we ask more because accounts here
  can change official statistics), at most 256, not the username, not containing it, not a single
  repeated character, and not in the shipped list of common passwords
  (``data/security/common_passwords.txt``). No composition rules (SP 800-63B advises against them).
* One-time passwords: four groups of five characters from an alphabet without look-alikes (no 0/o, 1/l/i),
  drawn with :mod:`secrets` (≈ 99 bits); the user must change it at first login.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from citycarbon.auth import messages
from citycarbon.data import data_path
from citycarbon.errors import Problem

MIN_LENGTH = 12
MAX_LENGTH = 256
#: characters of one-time passwords: lower-case letters and digits without 0, o, 1, l, i
OTP_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
OTP_GROUPS = 4
OTP_GROUP_LENGTH = 5

_HASHER = PasswordHasher()


class PasswordPolicyError(ValueError):
    """A new password breaks the policy. ``problems`` lists every rule it breaks as coded problems (field
    ``password``; the faces translate them, :mod:`citycarbon.auth.messages`); ``reasons`` their English text."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.reasons = [p.message for p in problems]
        super().__init__("; ".join(self.reasons))


def hasher() -> PasswordHasher:
    """The hasher new hashes are made with (its parameters decide :func:`needs_rehash`)."""
    return _HASHER


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; False for a mismatch or an unusable hash."""
    if not stored_hash:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the stored hash was made with parameters other than the current ones."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def burn_verify_time(password: str) -> None:
    """Spend the time a real verification takes (unknown users), so timing does not reveal existence."""
    verify_password(_dummy_hash(), password)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of refused passwords, lower-cased."""
    path = data_path("security/common_passwords.txt")
    with open(path, encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip() and not line.startswith("#"))


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def policy_violations(password: str, username: str | None = None) -> list[Problem]:
    """Every rule ``password`` breaks, as coded problems a user can act on (empty list: acceptable)."""
    found: list[Problem] = []

    def add(code: str, **params: object) -> None:
        found.append(messages.problem(code, field="password", value=None, suggestion=None, **params))

    length = len(password)
    if length < MIN_LENGTH:
        add("password_too_short", min=MIN_LENGTH, length=length)
    if length > MAX_LENGTH:
        add("password_too_long", max=MAX_LENGTH)
    normal = _normal(password)
    if username:
        name = _normal(username)
        if normal == name:
            add("password_is_username")
        elif len(name) >= 3 and name in normal:
            add("password_contains_username")
    if length and len(set(normal)) == 1:
        add("password_repeated")
    if normal in common_passwords() or normal.strip() in common_passwords():
        add("password_common")
    return found


def policy_problems(password: str, username: str | None = None) -> list[str]:
    """Every rule ``password`` breaks, in English (empty list: acceptable); :func:`policy_violations` has codes."""
    return [problem.message for problem in policy_violations(password, username)]


def check_password_policy(password: str, username: str | None = None) -> None:
    """Raise :class:`PasswordPolicyError` naming every rule ``password`` breaks."""
    problems = policy_violations(password, username)
    if problems:
        raise PasswordPolicyError(problems)


def generate_one_time_password() -> str:
    """A random password such as ``k7m2q-x9c4r-…`` (4 groups of 5), shown once and changed at first login."""
    groups = ("".join(secrets.choice(OTP_ALPHABET) for _ in range(OTP_GROUP_LENGTH)) for _ in range(OTP_GROUPS))
    return "-".join(groups)
