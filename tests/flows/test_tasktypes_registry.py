"""The task-type registry: lookups, legacy aliases, suggestions, schemas and the catalogue."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from flows.tasktypes import TaskTypeRegistry, registry
from flows.tasktypes.common import TASKS, string
from flows.tasktypes.registry import flowable, task

LEGACY = [
    ("io.kestra.core.tasks.log.Log", "io.kestra.plugin.core.log.Log"),
    ("io.kestra.core.tasks.debugs.Return", "io.kestra.plugin.core.debug.Return"),
    ("io.kestra.core.tasks.debugs.Echo", "io.kestra.plugin.core.debug.Echo"),
    ("io.kestra.core.tasks.executions.Fail", "io.kestra.plugin.core.execution.Fail"),
    ("io.kestra.core.tasks.executions.Labels", "io.kestra.plugin.core.execution.Labels"),
    ("io.kestra.core.tasks.flows.EachSequential", "io.kestra.plugin.core.flow.EachSequential"),
    ("io.kestra.core.tasks.flows.EachParallel", "io.kestra.plugin.core.flow.EachParallel"),
    ("io.kestra.core.tasks.flows.Sequential", "io.kestra.plugin.core.flow.Sequential"),
    ("io.kestra.core.tasks.flows.Parallel", "io.kestra.plugin.core.flow.Parallel"),
    ("io.kestra.core.tasks.flows.If", "io.kestra.plugin.core.flow.If"),
    ("io.kestra.core.tasks.flows.Switch", "io.kestra.plugin.core.flow.Switch"),
    ("io.kestra.core.tasks.flows.Dag", "io.kestra.plugin.core.flow.Dag"),
    ("io.kestra.core.tasks.flows.Pause", "io.kestra.plugin.core.flow.Pause"),
    ("io.kestra.core.tasks.flows.AllowFailure", "io.kestra.plugin.core.flow.AllowFailure"),
    ("io.kestra.core.tasks.flows.ForEachItem", "io.kestra.plugin.core.flow.ForEachItem"),
    ("io.kestra.core.tasks.flows.Subflow", "io.kestra.plugin.core.flow.Subflow"),
    ("io.kestra.core.tasks.flows.Flow", "io.kestra.plugin.core.flow.Subflow"),
    ("io.kestra.core.tasks.flows.Worker", "io.kestra.plugin.core.flow.WorkingDirectory"),
    ("io.kestra.core.tasks.storages.Concat", "io.kestra.plugin.core.storage.Concat"),
    ("io.kestra.plugin.fs.http.Request", "io.kestra.plugin.core.http.Request"),
    ("io.kestra.core.tasks.scripts.Bash", "io.kestra.plugin.scripts.shell.Commands"),
    ("io.kestra.core.models.triggers.types.Schedule", "io.kestra.plugin.core.trigger.Schedule"),
    ("io.kestra.core.models.triggers.types.Flow", "io.kestra.plugin.core.trigger.Flow"),
    ("io.kestra.core.models.triggers.types.Webhook", "io.kestra.plugin.core.trigger.Webhook"),
    (
        "io.kestra.core.models.conditions.types.ExecutionStatusCondition",
        "io.kestra.plugin.core.condition.ExecutionStatus",
    ),
    (
        "io.kestra.plugin.core.condition.ExecutionStatusCondition",
        "io.kestra.plugin.core.condition.ExecutionStatus",
    ),
    (
        "io.kestra.core.models.conditions.types.VariableCondition",
        "io.kestra.plugin.core.condition.Expression",
    ),
]


def test_it_resolves_a_canonical_name():
    log = registry.get("io.kestra.plugin.core.log.Log")
    assert log is not None
    assert (log.name, log.kind) == ("io.kestra.plugin.core.log.Log", "task")
    assert log.schema["additionalProperties"] is False
    assert "message" in log.schema["required"]
    assert not log.deprecated_alias(log.name)


@pytest.mark.parametrize(("alias", "canonical"), LEGACY)
def test_it_resolves_kestra_0_20_legacy_aliases(alias, canonical):
    found = registry.get(alias)
    assert found is not None
    assert found.name == canonical
    assert found.deprecated_alias(alias)


def test_it_returns_none_for_unknown_or_non_string_names():
    assert registry.get("io.kestra.plugin.jdbc.postgresql.Query") is None
    assert registry.get(None) is None  # type: ignore[arg-type]


def test_it_registers_every_kind():
    kinds = {t.kind for t in registry.all()}
    assert kinds == {"task", "flowable", "trigger", "condition"}
    assert registry.get("io.kestra.plugin.core.flow.ForEach").kind == "flowable"
    assert registry.get("io.kestra.plugin.core.trigger.Schedule").kind == "trigger"
    assert registry.get("io.kestra.plugin.core.condition.Not").kind == "condition"


def test_it_suggests_on_the_last_segment_of_a_misspelt_legacy_name():
    assert registry.suggest("io.kestra.core.tasks.log.Lg")[0] == "io.kestra.plugin.core.log.Log"


def test_it_suggests_close_canonical_names():
    found = registry.suggest("io.kestra.plugin.core.flow.Sequentail")
    assert found[0] == "io.kestra.plugin.core.flow.Sequential"
    assert len(found) <= 3


def test_it_limits_suggestions_to_the_requested_kinds():
    found = registry.suggest("io.kestra.plugin.core.trigger.Schedul", kinds=("trigger",))
    assert found == ["io.kestra.plugin.core.trigger.Schedule"]


def test_every_schema_is_a_valid_draft_2020_12_schema():
    for task_type in registry.all():
        Draft202012Validator.check_schema(task_type.schema)


def test_every_type_has_a_description_and_described_properties():
    for task_type in registry.all():
        assert task_type.description, task_type.name
        for name, schema in task_type.properties.items():
            assert schema.get("description"), f"{task_type.name}.{name}"


def test_every_flowable_accepts_an_errors_branch():
    for task_type in registry.all(("flowable",)):
        assert task_type.children["errors"] == TASKS
        assert "errors" in task_type.schema["properties"]


def test_the_flowable_child_lists_are_declared():
    assert dict(registry.get("io.kestra.plugin.core.flow.If").children) == {
        "then": "tasks",
        "else": "tasks",
        "errors": "tasks",
    }
    assert registry.get("io.kestra.plugin.core.flow.Switch").children["cases"] == "task_map"
    assert registry.get("io.kestra.plugin.core.flow.Dag").children["tasks"] == "dag"
    assert registry.get("io.kestra.plugin.core.flow.Pause").children["onResume"] == "inputs"


def test_triggers_accept_conditions():
    schedule = registry.get("io.kestra.plugin.core.trigger.Schedule")
    assert schedule.children["conditions"] == "conditions"


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):
        TaskTypeRegistry(
            [
                task("x.A", "A.", aliases=("x.Old",)),
                task("x.B", "B.", aliases=("x.Old",)),
            ]
        )


def test_adding_a_type_is_one_registration():
    own = TaskTypeRegistry()
    own.register(
        flowable(
            "acme.Loop",
            "Loop.",
            {"times": string("How many.")},
            children={"tasks": TASKS},
            required=("times",),
        )
    )
    loop = own.get("acme.Loop")
    assert loop.schema["required"] == ["times"]
    assert {"times", "tasks", "errors", "retry", "runIf"} <= set(loop.schema["properties"])
    assert own.autocomplete_catalog()["tasks"][0]["type"] == "acme.Loop"


def test_the_autocomplete_catalog_lists_types_and_keys():
    catalog = registry.autocomplete_catalog()
    json.dumps(catalog)
    assert set(catalog) == {
        "tasks",
        "triggers",
        "conditions",
        "flowKeys",
        "taskKeys",
        "triggerKeys",
        "inputTypes",
    }
    log = next(t for t in catalog["tasks"] if t["type"] == "io.kestra.plugin.core.log.Log")
    assert log["kind"] == "task"
    assert log["properties"]["message"]["required"] is True
    assert log["properties"]["level"]["enum"] == ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"]
    assert "io.kestra.core.tasks.log.Log" in log["aliases"]
    assert any(t["type"] == "io.kestra.plugin.core.trigger.Schedule" for t in catalog["triggers"])
    assert any(
        t["type"] == "io.kestra.plugin.core.condition.ExecutionStatus"
        for t in catalog["conditions"]
    )
    assert {"id", "namespace", "tasks", "triggers", "pluginDefaults"} <= set(catalog["flowKeys"])
    assert {"id", "type", "retry", "timeout", "runIf", "allowFailure"} <= set(catalog["taskKeys"])
    assert "BOOLEAN" in catalog["inputTypes"]
    assert {"conditions", "stopAfter", "labels"} <= set(catalog["triggerKeys"])


def test_the_catalog_is_a_copy():
    registry.autocomplete_catalog()["tasks"].clear()
    assert registry.autocomplete_catalog()["tasks"]
