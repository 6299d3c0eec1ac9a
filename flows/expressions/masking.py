"""Hiding the values `secret()` revealed from log lines.

Every value `secret()` returns during a render is collected in `RenderContext.secrets_seen`;
the engine passes them here before storing a log line. Each occurrence becomes "******" (a
fixed mask: Kestra 0.20 writes one star per character, which leaks the secret's length).

Values shorter than `MIN_SECRET_LENGTH` (4) are not masked: a one- to three-character secret
("1", "yes", "dev") occurs everywhere, so masking it would corrupt every log line while hiding
nothing that could not be guessed anyway. Longer secrets are replaced first, so a secret that
contains another is masked whole.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MASK", "MIN_SECRET_LENGTH", "mask_secrets"]

MASK = "******"
MIN_SECRET_LENGTH = 4


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    if not text:
        return text
    candidates = {str(s) for s in secrets if s is not None and len(str(s)) >= MIN_SECRET_LENGTH}
    for secret in sorted(candidates, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text
