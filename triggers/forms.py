"""Forms of the triggers pages: the filter bar (kept in the URL) and the backfill form of a
Schedule trigger, whose inputs are generated from the flow's `inputs:` as the launch form's
are; the backfill service types and checks them when each execution starts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any

from django import forms

from executions.forms import LaunchForm
from flows.spec.formats import is_expression
from tenants.errors import Violation
from tenants.models import NAMESPACE_RE
from triggers.engine import cron
from triggers.models import Trigger
from triggers.selectors import TriggerQuery

KIND_CHOICES = [("", "All kinds"), *Trigger.KINDS]


class TriggerFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    namespace = forms.CharField(required=False, max_length=150, label="Namespace")
    flow_id = forms.CharField(required=False, max_length=100, label="Flow")
    kind = forms.ChoiceField(required=False, choices=KIND_CHOICES, label="Kind")

    def clean_namespace(self) -> str:
        value = self.cleaned_data["namespace"].strip()
        if value and not NAMESPACE_RE.match(value):
            raise forms.ValidationError(f"Expected a namespace such as company.team, got '{value}'")
        return value

    def to_query(self) -> TriggerQuery:
        data = self.cleaned_data
        return TriggerQuery(
            q=data.get("q", "").strip(),
            namespace=data.get("namespace", ""),
            flow_id=data.get("flow_id", "").strip(),
            kind=data.get("kind", ""),
        )


class BackfillForm(LaunchForm):
    """Start and end (wall-clock times in the trigger's time zone), the flow's inputs (files
    excepted: a backfill stores its inputs) and labels. An input left empty takes the
    trigger's `inputs` value, else the flow's default, when each execution starts."""

    start = forms.CharField(
        label="Start",
        error_messages={"required": "Give the date and time of the first tick to run."},
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )
    end = forms.CharField(
        required=False,
        label="End",
        help_text="Empty: until now",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )

    def __init__(self, trigger: Trigger, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"backfill-{trigger.pk}-%s")
        definitions = [
            definition
            for definition in trigger.flow_row.spec.get("inputs") or []
            if not (isinstance(definition, dict) and str(definition.get("type")).upper() == "FILE")
        ]
        super().__init__(definitions, *args, **kwargs)
        self.trigger = trigger
        self.zone = _zone(trigger.spec)
        zone_name = str(trigger.spec.get("timezone") or "UTC")
        for name in ("start", "end"):
            self.fields[name].label = f"{self.fields[name].label} ({zone_name})"
        given = trigger.spec.get("inputs")
        given = given if isinstance(given, dict) else {}
        for name in self.input_types:
            input_id = name.removeprefix(self.field_prefix)
            if input_id in given:
                _prefer_trigger_value(self.fields[name], given[input_id])
        self.order_fields(["start", "end", *self.input_types, "labels"])

    def clean_start(self) -> datetime | None:
        return self._moment("start")

    def clean_end(self) -> datetime | None:
        return self._moment("end")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end must not be before the start.")
        return data

    def add_violations(self, violations: Iterable[Violation]) -> None:
        """The backfill service's violations: start and end next to their fields, inputs and
        labels as the launch form places them."""
        rest = []
        for violation in violations:
            if violation.path in ("start", "end"):
                self.add_error(violation.path, violation.message)
            else:
                rest.append(violation)
        super().add_violations(rest)

    def inputs(self) -> dict[str, Any]:
        """What was typed, by input id (text, or JSON text for multiple choices)."""
        return dict(self.provided())

    def _moment(self, name: str) -> datetime | None:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return None
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise forms.ValidationError(
                f"Expected a date and time such as 2026-01-31T00:00, got '{raw[:40]}'"
            ) from None
        return moment.replace(tzinfo=self.zone) if moment.tzinfo is None else moment


def _zone(spec: dict[str, Any]) -> tzinfo:
    try:
        return cron.zone(spec)
    except (KeyError, ValueError):  # validation refuses a bad zone; UTC for older rows
        return UTC


def _prefer_trigger_value(field: forms.Field, value: Any) -> None:
    """The trigger's own input value is what a backfilled execution gets by default: show it
    instead of the flow's default. A template is rendered per tick, so it stays a hint."""
    attrs = field.widget.attrs
    attrs.pop("required", None)
    if is_expression(value):
        field.initial = None
        attrs["placeholder"] = f"default: {value}"
    elif not isinstance(value, dict | list):
        field.initial = "true" if value is True else "false" if value is False else str(value)
