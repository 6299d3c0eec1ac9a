"""Setting the labels of an ended execution (Kestra's `POST /executions/{id}/labels`, and the
label editor of the execution page). The rules are executions/engine/labels.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from django.db import transaction

from executions import services, snapshots
from executions.engine.labels import (
    check_user_labels,
    labels_merged,
    labels_replaced,
    refuse_read_only,
)
from executions.engine.model import Label
from executions.models import Execution
from tenants.errors import Conflict, NotFound, Unprocessable, Violation
from tenants.models import Tenant


def labels_from_json(body: Any, field: str = "labels") -> list[Label]:
    """Kestra's body: a list of `{key, value}` objects, both strings (422 naming each wrong
    item otherwise)."""
    if not isinstance(body, list):
        raise Unprocessable(
            'Expected a list of labels such as [{"key": "team", "value": "data"}]',
            field=field,
            violations=[Violation(field, f"expected a list, got {type(body).__name__}")],
        )
    labels, problems = [], []
    for index, item in enumerate(body):
        where = f"{field}[{index}]"
        if not isinstance(item, Mapping):
            problems.append(Violation(where, "expected an object with key and value"))
            continue
        key, value = item.get("key"), item.get("value")
        if not isinstance(key, str):
            problems.append(Violation(f"{where}.key", "expected a string"))
        if not isinstance(value, str):
            problems.append(Violation(f"{where}.value", "expected a string"))
        if isinstance(key, str) and isinstance(value, str):
            labels.append(Label(key, value))
    if problems:
        raise Unprocessable(f"Invalid labels: {len(problems)} problem(s)", violations=problems)
    return labels


def execution_labels_set(
    *, tenant: Tenant, execution_id: str, labels: Iterable[Label], replace_all: bool = False
) -> Execution:
    """Set labels of an ended execution (409 while it runs, or when it is read-only). By
    default the labels given are merged over the current ones (Kestra's API); with
    `replace_all` they become the user labels (the page's editor, which can remove one).
    System labels cannot be added or changed (422) and are always kept."""
    given = list(labels)
    with transaction.atomic():
        locked = services._locked(tenant, execution_id)
        if locked is None:
            raise NotFound(f"Execution {execution_id} not found")
        row, before = locked
        if not before.current.terminated:
            raise Conflict(
                f"Execution {execution_id} is {before.current}: its labels can be set once it "
                "has ended"
            )
        refuse_read_only(f"Execution {execution_id}", before.labels)
        check_user_labels(given, before.labels)
        combine = labels_replaced if replace_all else labels_merged
        after = replace(before, labels=combine(before.labels, given))
        return snapshots.save(
            tenant=tenant, row=row, before=before, after=after, wake_at=row.wake_at
        )
