"""The errors Aviary raises on purpose, each with its HTTP status.

Pure Python: the engine core raises the same classes as the web layer. Anything that is not
an `AviaryError` is a bug and becomes a 500.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Violation:
    """One problem with an input: where it is (a dotted path, the YAML line) and what is wrong."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        at = f"{self.path}: " if self.path else ""
        return f"{where}{at}{self.message}"


class AviaryError(Exception):
    """Base of every error raised on purpose."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        violations: list[Violation] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.violations = list(violations or [])


class InvalidInput(AviaryError):
    status, code = 400, "invalid"


class Unprocessable(AviaryError):
    """Well-formed request whose content breaks a rule (an invalid flow, a bad input)."""

    status, code = 422, "unprocessable"


class FlowSpecError(Unprocessable):
    """A flow's YAML does not describe a valid flow; `violations` lists every problem."""

    code = "invalid_flow"


class Unauthenticated(AviaryError):
    status, code = 401, "unauthenticated"


class Forbidden(AviaryError):
    """Inside a tenant the user can see; another tenant's object is a NotFound instead."""

    status, code = 403, "forbidden"


class NotFound(AviaryError):
    status, code = 404, "not_found"


class Conflict(AviaryError):
    status, code = 409, "conflict"


class PayloadTooLarge(AviaryError):
    status, code = 413, "too_large"


class TenantScopeError(RuntimeError):
    """A tenant-owned model was queried without naming the tenant: a bug, never a 4xx."""
