"""One JSON object per benchmark: what ran, where, with which parameters, the figures, the
targets and whether they were met."""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OPERATORS = {"<=": lambda got, goal: got <= goal, ">=": lambda got, goal: got >= goal}


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation): a value that was actually measured."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def distribution_ms(seconds: Sequence[float], prefix: str = "") -> dict[str, float]:
    """p50/p90/p99, mean, min and max of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {}
    return {
        f"{prefix}p50_ms": round(percentile(ms, 50), 2),
        f"{prefix}p90_ms": round(percentile(ms, 90), 2),
        f"{prefix}p99_ms": round(percentile(ms, 99), 2),
        f"{prefix}mean_ms": round(statistics.fmean(ms), 2),
        f"{prefix}min_ms": round(min(ms), 2),
        f"{prefix}max_ms": round(max(ms), 2),
    }


@dataclass
class Report:
    benchmark: str
    parameters: dict[str, Any]
    targets: dict[str, tuple[str, float]]  # results key -> (operator, goal)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    results: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # an invalid run, not a missed target
    skipped: dict[str, str] = field(default_factory=dict)  # target key -> why not measured
    # other work on the machine skews everything: the 1-minute load before and after
    load_before: float = field(default_factory=lambda: round(os.getloadavg()[0], 2))

    def fail(self, reason: str) -> None:
        self.failures.append(reason)

    def missed(self) -> list[str]:
        missed = []
        for key, (operator, goal) in self.targets.items():
            if key in self.skipped:
                continue
            got = self.results.get(key)
            if not isinstance(got, int | float) or math.isnan(got):
                missed.append(f"{key}: not measured")
            elif not OPERATORS[operator](got, goal):
                missed.append(f"{key}: {got} (target {operator} {goal})")
        return missed

    def as_json(self, *, machine: dict[str, Any], commit: dict[str, Any]) -> dict[str, Any]:
        missed = self.missed()
        body: dict[str, Any] = {
            "benchmark": self.benchmark,
            "machine": machine,
            "commit": commit["commit"],
            "dirty": commit["dirty"],
            "started_at": self.started_at,
            "load_average_1m": {"before": self.load_before, "after": round(os.getloadavg()[0], 2)},
            "parameters": self.parameters,
            "results": self.results,
            "targets": {key: f"{op} {goal}" for key, (op, goal) in self.targets.items()},
            "met": not missed and not self.failures,
        }
        if self.skipped:
            body["skipped"] = self.skipped
        if missed:
            body["missed"] = missed
        if self.failures:
            body["failed"] = self.failures
        return body
