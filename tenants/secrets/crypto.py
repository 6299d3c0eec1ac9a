"""Encryption of secret values at rest: Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`.

The key is `AVIARY_SECRETS_KEY` (a Fernet key; several, comma-separated, to rotate: the first
encrypts, all decrypt). Unset, it is derived from SECRET_KEY, so a development instance works
without configuration; production should set its own.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretDecryptionError(RuntimeError):
    """A stored value cannot be decrypted: the key changed without rotation."""


@lru_cache(maxsize=4)
def _fernet(keys: str, fallback: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
    derived = base64.urlsafe_b64encode(
        hashlib.sha256(f"aviary-secrets:{fallback}".encode()).digest()
    )
    return MultiFernet([Fernet(derived)])


def _cipher() -> MultiFernet:
    return _fernet(settings.AVIARY["SECRETS_KEY"], settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return _cipher().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretDecryptionError(
            "a stored secret cannot be decrypted with AVIARY_SECRETS_KEY; restore the old key "
            "(comma-separated after the new one) to rotate"
        ) from None
