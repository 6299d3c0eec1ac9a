"""Checks of a flow's `sla` entries beyond their schema (flows/spec/validation.py): labels
free of `system.` keys, and a MAX_DURATION `duration` that can be used. Kestra 0.20 takes
any `java.time.Duration` there, so a zero or negative one fails every execution at once and
a huge one overflows the deadline when an execution is created (kestra-io/kestra#18421):
refused here, with the reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flows.spec import formats
from flows.spec.paths import key_path
from flows.spec.report import Report
from flows.spec.semantics import check_labels

# The longest MAX_DURATION: its deadline must stay a date (100 years is plenty).
SLA_MAX_DURATION = timedelta(days=36_500)


def check_sla(report: Report, sla: dict[str, Any], path: str) -> None:
    check_labels(report, sla.get("labels"), key_path(path, "labels"))
    if sla.get("type") != "MAX_DURATION" or "duration" not in sla:
        return
    raw = sla["duration"]
    field = key_path(path, "duration")
    if formats.is_expression(raw):
        report.error(
            field, f"An SLA duration is not rendered: expected a duration such as PT1H, got '{raw}'"
        )
        return
    duration = formats.duration_value(raw)
    if duration is None:
        return  # not a duration: the schema says so
    if duration <= timedelta(0):
        report.error(field, f"An SLA duration must be positive, got '{raw}'")
    elif duration > SLA_MAX_DURATION:
        report.error(field, f"An SLA duration must be at most P36500D (100 years), got '{raw}'")
