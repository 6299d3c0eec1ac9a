from datetime import timedelta

import pytest

from executions.engine.flow import CREATE_NEW_EXECUTION, load_flow
from tests.executions.engine.helpers import flow


def test_it_indexes_every_task_of_the_tree_with_its_parent():
    spec = flow(
        """
        tasks:
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            tasks:
              - id: inner
                type: io.kestra.plugin.core.log.Log
                message: hi
            errors:
              - id: local
                type: io.kestra.plugin.core.log.Log
                message: local
        errors:
          - id: global
            type: io.kestra.plugin.core.log.Log
            message: global
        """
    )
    assert [task.id for task in spec.tasks] == ["seq"]
    assert [task.id for task in spec.errors] == ["global"]
    assert spec.task("inner").type == "io.kestra.plugin.core.log.Log"
    assert spec.parent_of("inner").id == "seq"
    assert spec.parent_of("local").id == "seq"
    assert spec.parent_of("seq") is None
    assert [task.id for task in spec.task("seq").errors] == ["local"]
    assert spec.task("seq").flowable
    assert spec.task("inner").properties == {"message": "hi"}
    with pytest.raises(KeyError, match="nope"):
        spec.task("nope")


def test_it_resolves_legacy_type_aliases_to_canonical_names():
    spec = flow(
        """
        tasks:
          - id: old
            type: io.kestra.core.tasks.log.Log
            message: hi
        """
    )
    assert spec.task("old").type == "io.kestra.plugin.core.log.Log"


def test_it_reads_the_common_task_properties():
    spec = flow(
        """
        tasks:
          - id: t
            type: io.kestra.plugin.core.log.Log
            message: hi
            disabled: true
            runIf: "{{ inputs.go }}"
            timeout: PT5M
            allowFailure: true
            allowWarning: true
            retry:
              type: exponential
              interval: PT1S
              maxInterval: PT1M
              delayFactor: 3
              maxAttempt: 4
              maxDuration: PT10M
              warningOnRetry: true
              behavior: CREATE_NEW_EXECUTION
        """
    )
    task = spec.task("t")
    assert task.disabled
    assert task.run_if == "{{ inputs.go }}"
    assert task.timeout_duration == timedelta(minutes=5)
    assert task.allow_failure
    assert task.allow_warning
    assert task.retry.type == "exponential"
    assert task.retry.interval == timedelta(seconds=1)
    assert task.retry.max_interval == timedelta(minutes=1)
    assert task.retry.delay_factor == 3
    assert task.retry.max_attempt == 4
    assert task.retry.max_duration == timedelta(minutes=10)
    assert task.retry.warning_on_retry
    assert task.retry.behavior == CREATE_NEW_EXECUTION


def test_it_finds_the_effective_retry_own_then_ancestor_then_flow():
    spec = flow(
        """
        retry:
          type: constant
          interval: PT9S
          maxAttempt: 9
        tasks:
          - id: own
            type: io.kestra.plugin.core.execution.Fail
            retry:
              type: constant
              interval: PT1S
              maxAttempt: 2
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            retry:
              type: constant
              interval: PT3S
              maxAttempt: 3
            tasks:
              - id: inherited
                type: io.kestra.plugin.core.execution.Fail
          - id: flow-level
            type: io.kestra.plugin.core.execution.Fail
        """
    )
    assert spec.effective_retry("own").max_attempt == 2
    assert spec.effective_retry("inherited").max_attempt == 3
    assert spec.effective_retry("flow-level").max_attempt == 9


def test_it_keeps_switch_cases_and_dag_edges():
    spec = flow(
        """
        tasks:
          - id: switch
            type: io.kestra.plugin.core.flow.Switch
            value: "x"
            cases:
              A:
                - id: a
                  type: io.kestra.plugin.core.log.Log
                  message: a
            defaults:
              - id: d
                type: io.kestra.plugin.core.log.Log
                message: d
          - id: dag
            type: io.kestra.plugin.core.flow.Dag
            tasks:
              - task:
                  id: one
                  type: io.kestra.plugin.core.log.Log
                  message: one
              - task:
                  id: two
                  type: io.kestra.plugin.core.log.Log
                  message: two
                dependsOn: [one]
        """
    )
    switch = spec.task("switch")
    assert [task.id for task in switch.cases["A"]] == ["a"]
    assert [task.id for task in switch.branch("defaults")] == ["d"]
    assert switch.properties == {"value": "x"}
    dag = spec.task("dag")
    assert [task.id for task in dag.branch("tasks")] == ["one", "two"]
    assert dag.depends_on == {"one": (), "two": ("one",)}
    assert spec.parent_of("two").id == "dag"


def test_it_applies_plugin_defaults_forced_or_not():
    spec = flow(
        """
        tasks:
          - id: plain
            type: io.kestra.plugin.core.log.Log
            message: mine
          - id: other
            type: io.kestra.plugin.core.debug.Return
            format: x
        pluginDefaults:
          - type: io.kestra.plugin.core.log
            values:
              message: default
              level: WARN
          - type: io.kestra.plugin.core.debug.Return
            forced: true
            values:
              format: forced
        """
    )
    assert spec.task("plain").properties == {"message": "mine", "level": "WARN"}
    assert spec.task("other").properties == {"format": "forced"}


def test_it_reads_flow_labels_inputs_outputs_and_variables():
    spec = load_flow(
        "id: f\nnamespace: n\nrevision: 4\nlabels:\n  team: data\n"
        "inputs:\n  - id: a\n    type: STRING\n    defaults: x\n"
        "variables:\n  v: 1\n"
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
        "outputs:\n  - id: o\n    type: STRING\n    value: y\n"
    )
    assert spec.revision == 4
    assert [(label.key, label.value) for label in spec.labels] == [("team", "data")]
    assert spec.inputs[0]["id"] == "a"
    assert spec.outputs[0]["id"] == "o"
    assert spec.variables == {"v": 1}
