"""SECRET inputs encrypted at rest with the secrets store's cipher (Fernet, the key from
`AVIARY_SECRETS_KEY`, see tenants/secrets/crypto.py).

`sealed` encrypts the SECRET values of an execution's inputs before its row is written
(`execution_create`); the engine keeps them sealed in its snapshot and opens them with
`unseal` (passed in `EngineServices`) only where templates read `inputs`. Readers of the row
(the API, the pages) still mask SECRET inputs whole: they never show the token either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from executions.engine.sealed_inputs import seal_inputs
from tenants.secrets.crypto import decrypt, encrypt


def sealed(inputs: Mapping[str, Any], secret_ids: Iterable[str]) -> dict[str, Any]:
    """`inputs` (nested, as stored) with the value of each SECRET input id encrypted."""
    return seal_inputs(inputs, secret_ids, encrypt)


def unseal(token: str) -> str:
    """The clear value of one sealed input; `SecretDecryptionError` when the key changed."""
    return decrypt(token)
