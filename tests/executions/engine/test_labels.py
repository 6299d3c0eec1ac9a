"""The rules of labels set by users (executions/engine/labels.py)."""

from __future__ import annotations

import pytest

from executions.engine.labels import (
    check_user_labels,
    is_read_only,
    labels_merged,
    labels_replaced,
    refuse_read_only,
)
from executions.engine.model import Label
from tenants.errors import Conflict, Unprocessable

CURRENT = (
    Label("team", "data"),
    Label("env", "prod"),
    Label("system.correlationId", "abc"),
)


def test_kestra_merges_the_given_labels_over_the_current_ones():
    merged = labels_merged(CURRENT, [Label("env", "dev"), Label("owner", "ann")])
    assert merged == (
        Label("team", "data"),
        Label("env", "dev"),
        Label("system.correlationId", "abc"),
        Label("owner", "ann"),
    )


def test_the_editor_replaces_the_user_labels_and_keeps_the_system_ones():
    replaced = labels_replaced(CURRENT, [Label("owner", "ann")])
    assert replaced == (Label("system.correlationId", "abc"), Label("owner", "ann"))


def test_a_system_label_sent_back_unchanged_is_accepted():
    check_user_labels([Label("system.correlationId", "abc"), Label("x", "")], CURRENT)


@pytest.mark.parametrize(
    ("_case", "given", "path", "words"),
    [
        (
            "new system label",
            [Label("system.readOnly", "true")],
            "labels[0].key",
            "offending label: system.readOnly=true",
        ),
        (
            "changed system label",
            [Label("system.correlationId", "zzz")],
            "labels[0].key",
            "Kestra itself",
        ),
        ("empty key", [Label(" ", "v")], "labels[0].key", "needs a key"),
        ("twice", [Label("a", "1"), Label("a", "2")], "labels[1].key", "given twice"),
        ("long key", [Label("k" * 256, "v")], "labels[0].key", "at most 255"),
        ("long value", [Label("k", "v" * 1001)], "labels[0].value", "at most 1000"),
    ],
)
def test_it_refuses_bad_user_labels_naming_each(_case, given, path, words):
    with pytest.raises(Unprocessable) as caught:
        check_user_labels(given, CURRENT)
    assert caught.value.status == 422
    assert [v.path for v in caught.value.violations] == [path]
    assert words in caught.value.violations[0].message


def test_it_counts_every_problem_at_once():
    with pytest.raises(Unprocessable) as caught:
        check_user_labels([Label("", "x"), Label("system.app", "y")], ())
    assert len(caught.value.violations) == 2


@pytest.mark.parametrize(
    ("labels", "read_only"),
    [
        ([Label("system.readOnly", "true")], True),
        ([Label("system.readOnly", "TRUE ")], True),
        ([{"key": "system.readOnly", "value": "true"}], True),
        ([Label("system.readOnly", "false")], False),
        ([Label("readOnly", "true")], False),
        ([], False),
    ],
)
def test_it_reads_the_read_only_label(labels, read_only):
    assert is_read_only(labels) is read_only


def test_a_read_only_object_is_a_conflict_naming_it():
    with pytest.raises(Conflict) as caught:
        refuse_read_only("Execution abc", [Label("system.readOnly", "true")])
    assert caught.value.status == 409
    assert caught.value.message.startswith("Execution abc is read-only")
    refuse_read_only("Execution abc", [Label("team", "x")])  # not read-only: nothing raised
