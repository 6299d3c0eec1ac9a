"""Collects violations and warnings while a flow is checked, each placed on its YAML line."""

from __future__ import annotations

from collections.abc import Iterable

from flows.spec.paths import parent_path
from tenants.errors import Violation

Positions = dict[str, tuple[int, int]]


def position_of(positions: Positions, path: str) -> tuple[int | None, int | None]:
    """(line, column) of `path`, or of its closest ancestor that was written in the YAML (a
    missing property is reported on its parent mapping's line)."""
    current = path
    while True:
        found = positions.get(current)
        if found is not None:
            return found
        if not current:
            return None, None
        current = parent_path(current)


class Report:
    def __init__(self, positions: Positions) -> None:
        self.positions = positions
        self.violations: list[Violation] = []
        self.warnings: list[Violation] = []

    def position(self, path: str) -> tuple[int | None, int | None]:
        return position_of(self.positions, path)

    def line(self, path: str) -> int | None:
        return self.position(path)[0]

    def error(self, path: str, message: str, *, at: str | None = None) -> None:
        """Record a problem at `path`, placed on the line of `at` (default: `path`)."""
        line, column = self.position(path if at is None else at)
        self.violations.append(Violation(path, message, line, column))

    def warn(self, path: str, message: str) -> None:
        line, column = self.position(path)
        self.warnings.append(Violation(path, message, line, column))

    def extend(self, violations: Iterable[Violation]) -> None:
        self.violations.extend(violations)
