"""TOTP secrets encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``).

A TOTP secret must stay usable to compute codes, so it cannot be hashed; it is stored as a Fernet token and the
key is kept outside the database, so a leaked database dump or backup does not leak second factors.

Keys (newest first; the first encrypts, all decrypt — :class:`cryptography.fernet.MultiFernet`):

* ``CITYCARBON_TOTP_KEYS`` (``Settings.totp_keys``): comma-separated Fernet keys, e.g. from a secret store; or
* the key file ``$CITYCARBON_HOME/totp.key`` (``CITYCARBON_TOTP_KEY_FILE``), one key per line, created with
  mode 0600 and one fresh key the first time a secret is encrypted.

Rotation (docs/security.md): put a new key first (``citycarbon users rotate-totp-key`` does it for the key file),
keep the old ones after it, and re-encrypt every stored secret with the newest key
(:func:`citycarbon.services.users.rotate_totp_key`); then the old keys may be dropped.

A value that is not a Fernet token is a secret stored in the clear by a release before this one: it is read as
it is, and encrypted at the user's next successful login or by the rotation command.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from citycarbon.settings import Settings

#: every Fernet token starts with the version byte 0x80, base64url-encoded as "gAAAAA"
FERNET_PREFIX = "gAAAAA"
KEY_FILE_NAME = "totp.key"


class TotpKeyError(RuntimeError):
    """No usable key, or a stored secret that none of the keys decrypts."""


def is_encrypted(value: str | None) -> bool:
    return bool(value) and str(value).startswith(FERNET_PREFIX)


def key_file(settings: Settings) -> Path:
    return settings.totp_key_file or settings.home / KEY_FILE_NAME


def _read_keys(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="ascii").splitlines()
            if line.strip() and not line.startswith("#")]


def _write_keys(path: Path, keys: list[str]) -> None:
    """Write the key file with mode 0600 (atomically: a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("# citycarbon TOTP keys (Fernet), newest first; keep this file secret and backed up apart\n")
        handle.write("\n".join(keys) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


_CREATE_LOCK = threading.Lock()


def load_keys(settings: Settings, *, create: bool = True) -> list[str]:
    """The keys, newest first: the setting, else the key file (created with one key when missing)."""
    if settings.totp_keys:
        return list(settings.totp_keys)
    path = key_file(settings)
    with _CREATE_LOCK:
        if path.exists():
            keys = _read_keys(path)
        elif create:
            keys = [Fernet.generate_key().decode()]
            if settings.totp_key_file is None:
                settings.ensure_home()
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it meanwhile
                keys = _read_keys(path)
            else:
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write("# citycarbon TOTP keys (Fernet), newest first; keep this file secret\n")
                    handle.write(keys[0] + "\n")
        else:
            keys = []
    if not keys:
        raise TotpKeyError(f"{path}: no TOTP key")
    return keys


class TotpCipher:
    """Encrypts with the newest key, decrypts with any; reads legacy plaintext secrets as they are."""

    def __init__(self, keys: list[str] | tuple[str, ...]):
        if not keys:
            raise TotpKeyError("no TOTP key")
        try:
            self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
        except (ValueError, TypeError) as error:
            raise TotpKeyError(f"a TOTP key is not a Fernet key (32 url-safe base64 bytes): {error}") from None

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("ascii")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        if not is_encrypted(stored):
            return stored  # stored in the clear by an older release
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise TotpKeyError("a stored TOTP secret matches none of the keys (was a key removed too early?)") \
                from None

    def rotate(self, stored: str) -> str:
        """The value re-encrypted with the newest key (a plaintext secret: encrypted)."""
        if not is_encrypted(stored):
            return self.encrypt(stored)
        try:
            return self._fernet.rotate(stored.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise TotpKeyError("a stored TOTP secret matches none of the keys") from None


def cipher_for(settings: Settings) -> TotpCipher:
    return TotpCipher(load_keys(settings))


def default_cipher(session: object | None = None) -> TotpCipher:
    """The cipher of the settings the session's :class:`~citycarbon.store.db.Database` was opened with (store
    functions called without one), else of the environment's settings."""
    settings = getattr(session, "info", {}).get("settings") if session is not None else None
    return cipher_for(settings if isinstance(settings, Settings) else Settings.from_env())


def add_key(settings: Settings) -> list[str]:
    """Put a fresh key first in the key file (older keys kept after it); returns the new list."""
    if settings.totp_keys:
        raise TotpKeyError("the keys come from CITYCARBON_TOTP_KEYS: put the new key first there "
                           "(generate one with `python -c 'from cryptography.fernet import Fernet; "
                           "print(Fernet.generate_key().decode())'`)")
    path = key_file(settings)
    keys = _read_keys(path) if path.exists() else []
    keys = [Fernet.generate_key().decode(), *keys]
    _write_keys(path, keys)
    return keys


def drop_old_keys(settings: Settings) -> list[str]:
    """Keep only the newest key in the key file (after every secret was re-encrypted with it)."""
    path = key_file(settings)
    keys = _read_keys(path)
    _write_keys(path, keys[:1])
    return keys[:1]
