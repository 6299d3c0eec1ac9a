"""The rules of execution labels set by users (Kestra 0.20's `ExecutionController.setLabels`
and its system labels), as pure functions.

- Keys starting with `system.` belong to Aviary (`system.correlationId`, `system.readOnly`...):
  a user can neither add nor change one; sending one back unchanged is allowed, since
  editors send every label they got (Kestra's rule).
- Kestra's API merges: the labels given replace those with the same key, the others stay.
  The label editor of the execution page replaces instead: it sends the whole list of user
  labels, so that one can also be removed; system labels are kept either way.
- `system.readOnly: "true"` marks an execution (or a flow) that users may not change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from executions.engine.model import SYSTEM_PREFIX, Label
from tenants.errors import Conflict, Unprocessable, Violation

READ_ONLY = "system.readOnly"
MAX_LABELS = 100
MAX_KEY_LENGTH = 255
MAX_VALUE_LENGTH = 1000


def is_system(key: str) -> bool:
    return key.startswith(SYSTEM_PREFIX)


def is_read_only(labels: Iterable[Label] | Iterable[dict[str, str]]) -> bool:
    """True when `system.readOnly` is "true" (any case), as Kestra's UI reads it."""
    for label in labels:
        key, value = (label.key, label.value) if isinstance(label, Label) else _pair(label)
        if key == READ_ONLY and str(value).strip().lower() == "true":
            return True
    return False


def _pair(item: dict[str, str]) -> tuple[str, str]:
    return str(item.get("key", "")), str(item.get("value", ""))


def refuse_read_only(what: str, labels: Iterable[Label] | Iterable[dict[str, str]]) -> None:
    """A Conflict naming `what` (e.g. "Execution abc") when its labels make it read-only."""
    if is_read_only(labels):
        raise Conflict(
            f'{what} is read-only (label {READ_ONLY}: "true"): it cannot be changed from the '
            "UI or the API"
        )


def check_user_labels(given: Sequence[Label], current: Iterable[Label]) -> None:
    """Every problem of labels a user sends at once (422): an empty or too long key or
    value, a key given twice, too many labels, a system label added or changed."""
    existing = {(label.key, label.value) for label in current if is_system(label.key)}
    problems: list[Violation] = []
    seen: set[str] = set()
    if len(given) > MAX_LABELS:
        problems.append(Violation("labels", f"at most {MAX_LABELS} labels, got {len(given)}"))
    for index, label in enumerate(given):
        where = f"labels[{index}]"
        if not label.key.strip():
            problems.append(Violation(f"{where}.key", "a label needs a key"))
        elif len(label.key) > MAX_KEY_LENGTH:
            problems.append(
                Violation(
                    f"{where}.key", f"at most {MAX_KEY_LENGTH} characters, got {len(label.key)}"
                )
            )
        if len(label.value) > MAX_VALUE_LENGTH:
            problems.append(
                Violation(
                    f"{where}.value",
                    f"at most {MAX_VALUE_LENGTH} characters, got {len(label.value)}",
                )
            )
        if label.key in seen:
            problems.append(Violation(f"{where}.key", f"the key '{label.key}' is given twice"))
        seen.add(label.key)
        if is_system(label.key) and (label.key, label.value) not in existing:
            problems.append(
                Violation(
                    f"{where}.key",
                    "System labels can only be set by Kestra itself, offending label: "
                    f"{label.key}={label.value}",
                )
            )
    if problems:
        raise Unprocessable(f"Invalid labels: {len(problems)} problem(s)", violations=problems)


def labels_merged(current: Sequence[Label], given: Sequence[Label]) -> tuple[Label, ...]:
    """Kestra's set-labels: `given` on top of `current`; a key already present keeps its
    place with the new value, new keys follow."""
    by_key = {label.key: label.value for label in current}
    by_key.update((label.key, label.value) for label in given)
    return tuple(Label(key, value) for key, value in by_key.items())


def labels_replaced(current: Sequence[Label], given: Sequence[Label]) -> tuple[Label, ...]:
    """The label editor's save: the system labels as they were, then the user labels given
    (those left out are removed)."""
    system = [label for label in current if is_system(label.key)]
    users = [label for label in given if not is_system(label.key)]
    return (*system, *users)
