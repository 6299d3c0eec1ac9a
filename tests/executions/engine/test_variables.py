"""The run variables templates see (§6.1)."""

from dataclasses import replace

from executions.engine.model import Label
from executions.engine.variables import (
    RunEnvironment,
    env_variables,
    labels_map,
    run_variables,
)
from tests.executions.engine.helpers import flow, run

NESTED = """
labels:
  team: data
variables:
  greeting: hello
inputs:
  - id: given
    type: STRING
  - id: defaulted
    type: STRING
    defaults: fallback
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    values: [v1, v2]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: [a]
        tasks:
          - id: ret
            type: io.kestra.plugin.core.debug.Return
            format: "{{ parent.taskrun.value }}-{{ taskrun.value }}"
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: x
"""


def _variables_of(task_id: str, **environment):
    spec = flow(NESTED)
    result = run(spec, {"given": "here"})
    task_run = result.task_run(task_id)
    env = RunEnvironment(**environment) if environment else None
    return run_variables(spec, result.execution, task_run, env), result, task_run


def test_it_exposes_flow_execution_task_and_taskrun():
    variables, result, task_run = _variables_of("last")
    assert variables["flow"] == {"id": "test", "namespace": "company.team", "revision": 1}
    assert variables["execution"] == {
        "id": result.execution.id,
        "startDate": "2024-12-20T10:00:00Z",
    }
    assert variables["task"] == {"id": "last", "type": "io.kestra.plugin.core.debug.Return"}
    assert variables["taskrun"] == {
        "id": task_run.id,
        "startDate": "2024-12-20T10:00:00Z",
        "attemptsCount": 1,
    }
    assert variables["parents"] == []
    assert "parent" not in variables


def test_it_adds_declared_input_defaults_and_flow_variables_as_vars():
    variables, _, _ = _variables_of("last")
    assert variables["inputs"] == {"given": "here", "defaulted": "fallback"}
    assert variables["vars"] == {"greeting": "hello"}


def test_it_nests_outputs_and_task_states_by_loop_values():
    variables, _, _ = _variables_of("last")
    assert variables["outputs"]["ret"] == {
        "v1": {"a": {"value": "v1-a"}},
        "v2": {"a": {"value": "v2-a"}},
    }
    assert variables["tasks"]["ret"] == {"a": {"state": "SUCCESS"}}
    assert variables["tasks"]["outer"] == {"state": "SUCCESS"}


def test_it_gives_parent_and_parents_closest_first():
    variables, _, task_run = _variables_of("ret")
    assert task_run.value == "a"
    assert variables["taskrun"]["value"] == "a"
    assert variables["taskrun"]["parentId"] == task_run.parent_task_run_id
    # the inner ForEach run carries the outer value; the outer run has no value nor outputs
    assert variables["parents"] == [{"taskrun": {"value": "v1"}}]
    assert variables["parent"] == variables["parents"][0]


def test_it_maps_every_system_label_under_labels_system():
    labels = [
        Label("team", "data"),
        Label("system.correlationId", "abc"),
        Label("system.username", "alice"),
    ]
    assert labels_map(labels) == {
        "team": "data",
        "system": {"correlationId": "abc", "username": "alice"},
    }


def test_it_keeps_environment_variables_with_the_prefix_lower_cased():
    environ = {"KESTRA_DB_HOST": "x", "KESTRA_CONFIGURATION": "secret", "HOME": "/root"}
    assert env_variables(environ) == {"db_host": "x"}
    assert env_variables({"ENV_TEAM": "data"}, prefix="ENV_") == {"team": "data"}


def test_it_exposes_envs_and_globals_from_the_environment():
    variables, _, _ = _variables_of("last", envs={"region": "eu"}, globals={"owner": "ops"})
    assert variables["envs"] == {"region": "eu"}
    assert variables["globals"] == {"owner": "ops"}


def test_it_exposes_the_trigger_variables():
    spec = flow("tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
    execution = replace(
        run(spec).execution,
        trigger={"id": "daily", "type": "Schedule", "variables": {"date": "2024-12-20"}},
    )
    assert run_variables(spec, execution)["trigger"] == {"date": "2024-12-20"}
