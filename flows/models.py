"""Flows, their revision history and their labels (a table, so label filters use an index)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from flows.spec import flow_labels
from tenants.models import Namespace, TenantOwned

READ_ONLY_LABEL = "system.readOnly"


class Flow(TenantOwned):
    """The current revision of a flow. `source` is the user's YAML, byte for byte; `spec` is
    the parsed document, kept so lists and the API need not parse YAML again."""

    namespace = models.ForeignKey(Namespace, on_delete=models.PROTECT, related_name="flows")
    flow_id = models.CharField(max_length=100)
    revision = models.PositiveIntegerField(default=1)
    source = models.TextField()
    spec = models.JSONField(default=dict)
    description = models.TextField(blank=True, default="")
    disabled = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["namespace__name", "flow_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "namespace", "flow_id"], name="flow_unique_per_namespace"
            )
        ]
        indexes = [models.Index(fields=["tenant", "deleted", "flow_id"])]

    def __str__(self) -> str:
        return f"{self.namespace.name}.{self.flow_id}"

    @property
    def read_only(self) -> bool:
        """Labelled `system.readOnly: "true"` (any case, or the YAML boolean): managed
        outside Aviary (CI/CD, Terraform), so the editor and the API refuse to change it."""
        return any(
            label["key"] == READ_ONLY_LABEL and label["value"].strip().lower() == "true"
            for label in flow_labels(self.spec)
        )


class FlowRevision(TenantOwned):
    """One saved version. A delete is a revision too (`deleted`), as in Kestra."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    source = models.TextField()
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["flow", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "revision"], name="flow_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.flow} rev {self.revision}"


class FlowLabel(TenantOwned):
    """A `key: value` label of a flow's current revision."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="label_rows")
    key = models.CharField(max_length=255)
    value = models.CharField(max_length=1000)

    class Meta:
        indexes = [models.Index(fields=["tenant", "key", "value"])]

    def __str__(self) -> str:
        return f"{self.key}:{self.value}"
