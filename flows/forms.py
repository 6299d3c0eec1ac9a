"""Forms of the flow pages: the filter bar (kept in the URL) and the import upload."""

from __future__ import annotations

from django import forms
from django.conf import settings

from flows.selectors import SORT_FIELDS, FlowQuery

SORT_CHOICES = [
    ("id:asc", "Id (A→Z)"),
    ("id:desc", "Id (Z→A)"),
    ("namespace:asc", "Namespace"),
    ("updated:desc", "Recently updated"),
    ("revision:desc", "Most revisions"),
]


class FlowFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    namespace = forms.CharField(required=False, max_length=150, label="Namespace")
    labels = forms.CharField(
        required=False,
        max_length=1000,
        label="Labels",
        help_text="key:value, separated by commas (all must match)",
    )
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort")

    def clean_labels(self) -> tuple[tuple[str, str], ...]:
        pairs = []
        for item in self.cleaned_data["labels"].split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, value = item.partition(":")
            if not sep or not key.strip():
                raise forms.ValidationError(f"Expected key:value, got '{item}'")
            pairs.append((key.strip(), value.strip()))
        return tuple(pairs)

    def to_query(self) -> FlowQuery:
        data = self.cleaned_data
        field, _, direction = (data.get("sort") or "id:asc").partition(":")
        assert field in SORT_FIELDS
        return FlowQuery(
            q=data.get("q", "").strip(),
            namespace=data.get("namespace", "").strip(),
            labels=data.get("labels", ()),
            sort=(field, direction or "asc"),
        )


class FlowImportForm(forms.Form):
    file = forms.FileField(label="ZIP or YAML file")

    @property
    def max_bytes(self) -> int:
        return int(settings.AVIARY["MAX_IMPORT_BYTES"])
