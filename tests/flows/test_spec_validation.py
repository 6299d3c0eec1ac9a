"""Flow validation: every Kestra 0.20 rule reports a violation with its path and YAML line."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from flows.spec import FlowValidation, flow_labels, parse_flow, validate_flow_source
from flows.spec.cron import cron_error
from flows.spec.formats import parse_duration
from tenants.errors import FlowSpecError, Violation

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "kestra-conformance"
CONFORMANCE_FILES = sorted(
    [*CONFORMANCE.glob("flows/*.y*ml"), *CONFORMANCE.glob("apps/*/flow.yaml")]
)
EXAMPLES = sorted((ROOT / "flows" / "examples").glob("*.y*ml"))

HEAD = "id: demo\nnamespace: company.team\n"
LOG = "io.kestra.plugin.core.log.Log"


def check(text: str) -> FlowValidation:
    return validate_flow_source(textwrap.dedent(text))


def at(result: FlowValidation, path: str) -> list[Violation]:
    return [v for v in result.violations if v.path == path]


def one(result: FlowValidation, path: str) -> Violation:
    found = at(result, path)
    assert len(found) == 1, (path, result.violations)
    return found[0]


def warning(result: FlowValidation, path: str) -> Violation:
    found = [w for w in result.warnings if w.path == path]
    assert len(found) == 1, (path, result.warnings)
    return found[0]


# -- the whole flow -----------------------------------------------------------------------


def test_it_accepts_a_minimal_flow():
    result = check(HEAD + f"tasks:\n  - id: hello\n    type: {LOG}\n    message: Hi\n")
    assert result.valid
    assert (result.flow_id, result.namespace) == ("demo", "company.team")
    assert result.data == {
        "id": "demo",
        "namespace": "company.team",
        "tasks": [{"id": "hello", "type": LOG, "message": "Hi"}],
    }
    assert result.warnings == []


def test_it_keeps_the_source_unchanged():
    source = HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x   \n"
    assert validate_flow_source(source).source == source


def test_it_reports_a_yaml_syntax_error_with_line_and_column():
    result = check("""\
        id: demo
        namespace: company: team
        tasks: []
        """)
    violation = one(result, "")
    assert (violation.line, violation.column) == (2, 19)
    assert violation.message.startswith("Invalid YAML: mapping values are not allowed")
    assert result.data is None


@pytest.mark.parametrize("source", ["- a\n- b\n", "just text\n", "", "42\n"])
def test_it_reports_a_document_that_is_not_a_mapping(source):
    result = validate_flow_source(source)
    assert not result.valid
    assert result.data is None
    assert "must be a YAML mapping" in one(result, "").message


def test_it_reports_duplicate_keys():
    result = check(f"""\
        id: demo
        namespace: company.team
        tasks:
          - id: a
            type: {LOG}
            message: one
            message: two
        """)
    violation = one(result, "tasks[0].message")
    assert violation.line == 7
    assert "Duplicate key 'message' (first defined on line 6)" in violation.message


def test_it_refuses_a_billion_laughs_quickly():
    lines = [HEAD, "variables:\n", '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol"]\n']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  {name}: &{name} [{', '.join(['*' + previous] * 9)}]\n")
    lines.append(f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n")
    started = time.perf_counter()
    result = validate_flow_source("".join(lines))
    assert time.perf_counter() - started < 1.0
    assert "aliases expand to more than" in result.violations[0].message


def test_it_requires_id_namespace_and_tasks_on_the_mapping_line():
    result = check("description: nothing else\n")
    for path in ("id", "namespace", "tasks"):
        violation = one(result, path)
        assert violation.message == f"Missing required property '{path}'"
        assert violation.line == 1


def test_it_checks_the_flow_id_pattern_and_length():
    result = check(
        f"id: bad id\nnamespace: company.team\ntasks:\n  - id: a\n    type: {LOG}\n    message: x\n"
    )
    assert "Flow id 'bad id' is invalid" in one(result, "id").message
    long = check(
        f"id: {'a' * 101}\nnamespace: n\ntasks:\n  - id: a\n    type: {LOG}\n    message: x\n"
    )
    assert "at most 100 characters" in one(long, "id").message
    assert check(
        f"id: My.Flow_2-x\nnamespace: n\ntasks:\n  - id: a\n    type: {LOG}\n    message: x\n"
    ).valid


def test_it_wants_a_lower_case_namespace():
    result = check(
        f"id: demo\nnamespace: Company.Team\ntasks:\n  - id: a\n    type: {LOG}\n    message: x\n"
    )
    violation = one(result, "namespace")
    assert violation.line == 2
    assert "must be lower case" in violation.message


def test_it_refuses_an_empty_task_list():
    result = check(HEAD + "tasks: []\n")
    violation = one(result, "tasks")
    assert (violation.line, violation.message) == (3, "Property 'tasks' must not be empty")


def test_it_reports_unknown_top_level_keys():
    result = check(
        HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\nfinally: []\n"
        "afterExecution: []\n"
    )
    assert one(result, "finally").line == 7
    assert one(result, "afterExecution").message.startswith("Unknown property 'afterExecution'")


def test_it_accepts_every_kestra_0_20_top_level_key():
    result = check(f"""\
        id: demo
        namespace: company.team
        revision: 3
        description: All keys
        labels: {{team: data}}
        inputs:
          - id: name
            type: STRING
        variables:
          greeting: hello
        tasks:
          - id: a
            type: {LOG}
            message: x
        errors:
          - id: on_error
            type: {LOG}
            message: failed
        listeners:
          - tasks:
              - id: listen
                type: {LOG}
                message: x
        triggers:
          - id: hook
            type: io.kestra.plugin.core.trigger.Webhook
            key: secret
        pluginDefaults:
          - type: io.kestra.plugin.core.log.Log
            values: {{level: WARN}}
        concurrency:
          limit: 2
          behavior: CANCEL
        outputs:
          - id: out
            type: STRING
            value: "{{{{ outputs.a }}}}"
        retry:
          type: constant
          interval: PT1S
          maxAttempt: 2
        sla:
          - id: slow
            type: MAX_DURATION
            behavior: FAIL
            duration: PT1H
        disabled: false
        deleted: false
        """)
    assert result.valid, result.violations
    assert warning(result, "listeners").message.startswith("'listeners' are deprecated")


def test_it_collects_every_problem_sorted_by_line():
    result = check("""\
        id: demo
        namespace: Bad
        tasks:
          - id: a
            type: nope.Nope
          - id: b
            type: io.kestra.plugin.core.log.Log
        concurrency:
          limit: 0
        """)
    assert [v.path for v in result.violations] == [
        "namespace",
        "tasks[0].type",
        "tasks[1].message",
        "concurrency.limit",
    ]
    assert [v.line for v in result.violations] == [2, 5, 6, 9]


# -- tasks --------------------------------------------------------------------------------


def test_it_reports_unknown_type_with_suggestion():
    result = check("""\
        id: demo
        namespace: company.team
        tasks:
          - id: a
            type: io.kestra.plugin.core.log.Log
            message: hi
          - id: b
            type: io.kestra.core.tasks.log.Lg
            message: hi
        """)
    violation = one(result, "tasks[1].type")
    assert violation.line == 8
    assert violation.message == (
        "Unknown task type 'io.kestra.core.tasks.log.Lg'. "
        "Did you mean: io.kestra.plugin.core.log.Log?"
    )


def test_it_reports_types_of_unknown_plugins_with_suggestions():
    result = check(
        HEAD + "tasks:\n  - id: q\n    type: io.kestra.plugin.jdbc.postgresql.Query\n"
        "    sql: select 1\n"
    )
    violation = one(result, "tasks[0].type")
    assert violation.line == 5
    assert violation.message.startswith(
        "Unknown task type 'io.kestra.plugin.jdbc.postgresql.Query'. Did you mean: "
    )


def test_it_accepts_a_legacy_alias_with_a_warning_naming_the_new_type():
    result = check(
        HEAD + "tasks:\n  - id: a\n    type: io.kestra.core.tasks.log.Log\n    message: hi\n"
    )
    assert result.valid
    assert warning(result, "tasks[0].type").message == (
        "Task type 'io.kestra.core.tasks.log.Log' is deprecated, "
        "use 'io.kestra.plugin.core.log.Log'"
    )
    assert warning(result, "tasks[0].type").line == 5


def test_it_warns_about_deprecated_types():
    result = check(
        HEAD + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Echo\n    format: hi\n"
    )
    assert result.valid
    assert "deprecated" in warning(result, "tasks[0].type").message


def test_it_refuses_a_trigger_type_in_tasks():
    result = check(
        HEAD + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.trigger.Schedule\n"
        "    cron: '@daily'\n"
    )
    assert "is a trigger type, not a task type" in one(result, "tasks[0].type").message


def test_it_requires_a_task_id_and_type_on_the_task_line():
    result = check(HEAD + "tasks:\n  - message: hi\n")
    assert (one(result, "tasks[0].id").line, one(result, "tasks[0].type").line) == (4, 4)
    assert one(result, "tasks[0].type").message == "Missing required property 'type'"


def test_it_checks_the_task_id_pattern():
    result = check(HEAD + f"tasks:\n  - id: my.task\n    type: {LOG}\n    message: x\n")
    assert "Task id 'my.task' is invalid" in one(result, "tasks[0].id").message


def test_it_reports_a_task_that_is_not_a_map():
    result = check(HEAD + "tasks:\n  - just a string\n")
    assert "A task must be a map" in one(result, "tasks[0]").message


def test_task_ids_are_unique_across_nested_flowables_and_errors():
    result = check(f"""\
        id: demo
        namespace: company.team
        tasks:
          - id: same
            type: {LOG}
            message: x
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            tasks:
              - id: same
                type: {LOG}
                message: x
        errors:
          - id: same
            type: {LOG}
            message: x
        """)
    nested, error = one(result, "tasks[1].tasks[0].id"), one(result, "errors[0].id")
    assert (nested.line, error.line) == (10, 14)
    assert nested.message == "Duplicate task id 'same' (first used on line 4)"
    assert at(result, "tasks[0].id") == []


def test_trigger_ids_are_only_unique_among_triggers():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: same
    type: {LOG}
    message: x
triggers:
  - id: same
    type: io.kestra.plugin.core.trigger.Webhook
    key: k
  - id: same
    type: io.kestra.plugin.core.trigger.Webhook
    key: k2
"""
    )
    violation = one(result, "triggers[1].id")
    assert violation.line == 11
    assert violation.message == "Duplicate trigger id 'same' (first used on line 8)"


def test_it_reports_a_missing_required_property_on_the_task_line():
    result = check(HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n")
    violation = one(result, "tasks[0].message")
    assert (violation.line, violation.message) == (4, "Missing required property 'message'")


def test_an_explicit_null_counts_as_missing():
    result = check(
        HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: null\n    description: ~\n"
    )
    assert one(result, "tasks[0].message").message == "Missing required property 'message'"
    assert len(result.violations) == 1


def test_it_reports_a_property_of_the_wrong_type():
    result = check(
        HEAD + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n    format: 12\n"
    )
    violation = one(result, "tasks[0].format")
    assert (violation.line, violation.column) == (6, 5)
    assert violation.message == "Property 'format' must be a string, got integer"


def test_it_reports_an_unknown_property_with_a_suggestion():
    result = check(HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n    levle: WARN\n")
    violation = one(result, "tasks[0].levle")
    assert violation.line == 7
    assert violation.message == "Unknown property 'levle'. Did you mean 'level'?"


def test_it_reports_a_value_outside_an_enum():
    result = check(HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n    level: LOUD\n")
    assert "must be one of ERROR, WARN, INFO, DEBUG, TRACE" in one(result, "tasks[0].level").message


def test_it_reports_errors_inside_lists_and_nested_objects():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: a
    type: {LOG}
    message: [ok, 3]
  - id: b
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{{{ true }}}}"
    checkFrequency:
      maxIterations: many
    tasks:
      - id: c
        type: {LOG}
        message: x
"""
    )
    assert one(result, "tasks[0].message[1]").line == 6
    violation = one(result, "tasks[1].checkFrequency.maxIterations")
    assert violation.line == 11
    assert "must be an integer, got string" in violation.message


def test_it_accepts_expressions_where_numbers_booleans_and_lists_are_expected():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: par
    type: io.kestra.plugin.core.flow.Parallel
    concurrent: "{{{{ inputs.width }}}}"
    allowFailure: "{{{{ inputs.lenient }}}}"
    tasks:
      - id: a
        type: {LOG}
        message: "{{{{ inputs.lines }}}}"
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{{{ outputs.par.values }}}}"
    tasks:
      - id: b
        type: {LOG}
        message: x
"""
    )
    assert result.valid, result.violations


def test_it_checks_the_timeout_duration():
    result = check(
        HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n    timeout: 10 minutes\n"
    )
    violation = one(result, "tasks[0].timeout")
    assert violation.line == 7
    assert "ISO-8601 duration" in violation.message
    ok = check(HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n    timeout: PT0.25s\n")
    assert ok.valid


def test_it_checks_the_retry_policy():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: a
    type: {LOG}
    message: x
    retry:
      type: constant
      maxAttempt: 0
  - id: b
    type: {LOG}
    message: x
    retry:
      type: linear
  - id: c
    type: {LOG}
    message: x
    retry:
      type: exponential
      interval: PT1M
      maxInterval: PT10S
      delayFactor: 2
      minInterval: PT1S
"""
    )
    assert one(result, "tasks[0].retry.interval").message == "Missing required property 'interval'"
    assert one(result, "tasks[0].retry.maxAttempt").line == 9
    assert (
        "must be one of constant, exponential, random" in one(result, "tasks[1].retry.type").message
    )
    assert one(result, "tasks[2].retry.minInterval").message.startswith("Unknown property")
    assert one(result, "tasks[2].retry.interval").message == (
        "'interval' must be less than 'maxInterval' but is PT1M"
    )


def test_it_validates_child_tasks_recursively_with_their_paths():
    result = check(f"""\
        id: demo
        namespace: company.team
        tasks:
          - id: first
            type: {LOG}
            message: x
          - id: check
            type: io.kestra.plugin.core.flow.If
            condition: "{{{{ true }}}}"
            then:
              - id: inner
                type: io.kestra.plugin.core.log.Nope
            else:
              - id: other
                type: {LOG}
        """)
    assert one(result, "tasks[1].then[0].type").line == 12
    assert one(result, "tasks[1].else[0].message").line == 14


def test_it_checks_child_list_shapes():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: check
    type: io.kestra.plugin.core.flow.If
    then: []
    else: a string
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: a
        type: {LOG}
        message: x
    errors: {{id: x}}
"""
    )
    assert one(result, "tasks[0].then").message == "Property 'then' must not be empty"
    assert "must be a list of tasks, got string" in one(result, "tasks[0].else").message
    assert one(result, "tasks[1].errors").line == 14


def test_flowables_accept_local_errors():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: a
        type: io.kestra.plugin.core.execution.Fail
    errors:
      - id: handler
        type: {LOG}
"""
    )
    assert one(result, "tasks[0].errors[0].message").line == 10


def test_a_switch_needs_cases_or_defaults():
    result = check(
        HEAD + "tasks:\n  - id: sw\n    type: io.kestra.plugin.core.flow.Switch\n"
        "    value: x\n    cases: {}\n"
    )
    violation = one(result, "tasks[0].cases")
    assert violation.line == 7
    assert "neither 'cases' nor 'defaults'" in violation.message


def test_switch_cases_are_lists_of_tasks():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: sw
    type: io.kestra.plugin.core.flow.Switch
    value: "{{{{ inputs.x }}}}"
    cases:
      A:
        - id: a
          type: {LOG}
      B: nope
"""
    )
    assert one(result, "tasks[0].cases.A[0].message").line == 9
    assert "Case 'B' must be a list of tasks" in one(result, "tasks[0].cases.B").message


def test_a_switch_with_only_defaults_is_valid_as_in_kestra():
    result = check(
        HEAD + f"tasks:\n  - id: sw\n    type: io.kestra.plugin.core.flow.Switch\n"
        f"    value: x\n    defaults:\n      - id: d\n        type: {LOG}\n"
        "        message: x\n"
    )
    assert result.valid, result.violations


def test_a_foreach_needs_values():
    result = check(
        HEAD + f"tasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
        f"    tasks:\n      - id: a\n        type: {LOG}\n        message: x\n"
    )
    violation = one(result, "tasks[0].values")
    assert (violation.line, violation.message) == (4, "Missing required property 'values'")


def test_a_dag_dependency_must_name_a_task_of_the_dag():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: a
          type: {LOG}
          message: x
        dependsOn: [ghost]
"""
    )
    violation = one(result, "tasks[0].tasks[0].dependsOn[0]")
    assert violation.line == 11
    assert violation.message == "Not existing task id in dependency: ghost"


def test_a_dag_cycle_is_named():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task: {{id: a, type: {LOG}, message: x}}
        dependsOn: [c]
      - task: {{id: b, type: {LOG}, message: x}}
        dependsOn: [a]
      - task: {{id: c, type: {LOG}, message: x}}
        dependsOn: [b]
      - task: {{id: d, type: {LOG}, message: x}}
"""
    )
    (violation,) = result.violations
    assert violation.message == "Cyclic dependency detected: a, c, b, a"
    assert violation.path == "tasks[0].tasks[0].dependsOn"
    assert violation.line == 8


def test_dag_tasks_are_validated_and_counted_for_uniqueness():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: a
    type: {LOG}
    message: x
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task: {{id: a, type: {LOG}}}
        extra: 1
"""
    )
    assert one(result, "tasks[1].tasks[0].task.id").message.startswith("Duplicate task id 'a'")
    assert one(result, "tasks[1].tasks[0].task.message").line == 10
    assert one(result, "tasks[1].tasks[0].extra").line == 11


def test_a_subflow_cannot_call_its_own_flow():
    result = check(
        HEAD
        + """\
tasks:
  - id: again
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: demo
"""
    )
    violation = one(result, "tasks[0].flowId")
    assert violation.line == 7
    assert violation.message == "A Subflow cannot call its own flow (company.team.demo)"


def test_a_for_each_item_cannot_call_its_own_flow():
    result = check(
        HEAD
        + """\
tasks:
  - id: again
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    namespace: company.team
    flowId: demo
"""
    )
    assert "A ForEachItem cannot call its own flow" in one(result, "tasks[0].flowId").message


def test_a_subflow_to_another_flow_or_by_expression_is_fine():
    result = check(
        HEAD
        + """\
tasks:
  - id: other
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: other
  - id: dynamic
    type: io.kestra.plugin.core.flow.Subflow
    namespace: "{{ flow.namespace }}"
    flowId: "{{ flow.id }}"
    labels: {source: parent}
"""
    )
    assert result.valid, result.violations


def test_a_working_directory_only_runs_runnable_tasks():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: a
            type: {LOG}
            message: x
      - id: sh
        type: io.kestra.plugin.scripts.shell.Commands
        commands: [ls]
        workerGroup: {{key: gpu}}
"""
    )
    assert "Only runnable tasks" in one(result, "tasks[0].tasks[0].type").message
    assert one(result, "tasks[0].tasks[1].workerGroup").line == 16


def test_script_tasks_are_checked():
    result = check(
        HEAD
        + """\
tasks:
  - id: py
    type: io.kestra.plugin.scripts.python.Script
    containerImage: python:3.11-slim
    beforeCommands: [pip install requests]
    script: print("hi")
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    commands: []
    taskRunner:
      type: io.kestra.plugin.core.runner.Nope
"""
    )
    assert [v.path for v in result.violations] == ["tasks[1].commands", "tasks[1].taskRunner.type"]


# -- inputs and outputs -------------------------------------------------------------------


def test_legacy_input_name_is_a_warning():
    result = check(
        HEAD + f"inputs:\n  - name: who\n    type: STRING\ntasks:\n  - id: a\n"
        f"    type: {LOG}\n    message: x\n"
    )
    assert result.valid
    assert warning(result, "inputs[0].name").message == "Input 'name' is deprecated, use 'id'"
    assert warning(result, "inputs[0].name").line == 4


def test_inputs_need_an_id_and_a_known_type():
    result = check(
        HEAD
        + """\
inputs:
  - type: STRING
  - id: b
  - id: c
    type: STRNG
  - id: bad id
    type: STRING
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: x
"""
    )
    assert one(result, "inputs[0].id").line == 4
    assert one(result, "inputs[1].type").line == 5
    violation = one(result, "inputs[2].type")
    assert violation.line == 7
    assert violation.message.startswith("Unknown input type 'STRNG'. Did you mean STRING?")
    assert "is invalid" in one(result, "inputs[3].id").message


def test_input_ids_are_unique():
    result = check(
        HEAD + f"inputs:\n  - id: x\n    type: STRING\n  - id: x\n    type: INT\n"
        f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n"
    )
    violation = one(result, "inputs[1].id")
    assert violation.line == 6
    assert violation.message == "Duplicate input id 'x' (first defined on line 4)"


def test_bool_is_read_as_boolean_with_a_warning():
    result = check(
        HEAD + f"inputs:\n  - id: ok\n    type: BOOL\n    defaults: true\n"
        f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n"
    )
    assert result.valid
    assert "BOOLEAN" in warning(result, "inputs[0].type").message


def test_input_type_specific_rules():
    result = check(
        HEAD
        + """\
inputs:
  - id: choice
    type: SELECT
  - id: list
    type: ARRAY
  - id: pattern
    type: STRING
    validator: "a(("
  - id: upload
    type: FILE
    defaults: x
  - id: count
    type: INT
    defaults: many
    itemType: STRING
  - id: flag
    type: BOOLEAN
    defaults: maybe
  - id: when
    type: DATE
    defaults: 2024-02-30
  - id: name
    type: STRING
    displayName: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
  - id: pick
    type: SELECT
    values: [a, b]
    defaults: c
  - id: items
    type: ARRAY
    itemType: ARRAY
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: x
"""
    )
    assert one(result, "inputs[0].values").line == 4
    assert "needs an 'itemType'" in one(result, "inputs[1].itemType").message
    assert one(result, "inputs[2].validator").message.startswith("Invalid regular expression")
    assert one(result, "inputs[3].defaults").line == 13
    assert one(result, "inputs[4].defaults").message.startswith(
        "Property 'defaults' must be an integer"
    )
    assert one(result, "inputs[4].itemType").message == (
        "Unknown property 'itemType' for an input of type INT"
    )
    assert "must be a boolean" in one(result, "inputs[5].defaults").message
    assert "must be a date" in one(result, "inputs[6].defaults").message
    assert "at most 64 characters" in one(result, "inputs[7].displayName").message
    assert "Default 'c' is not one of the values" in one(result, "inputs[8].defaults").message
    assert one(result, "inputs[9].itemType").message == "`itemType` cannot be `ARRAY`"


def test_inputs_accept_kestra_literal_values():
    result = check(
        HEAD
        + """\
inputs:
  - {id: s, type: STRING, defaults: 12, validator: "A\\\\d+"}
  - {id: i, type: INT, defaults: 3, min: 1, max: 5}
  - {id: f, type: FLOAT, defaults: 0.5, min: 0.1}
  - {id: d, type: DATE, defaults: 2024-12-03, after: 2023-01-01}
  - {id: dt, type: DATETIME, defaults: "2013-08-09T14:19:00Z"}
  - {id: t, type: TIME, after: "01:00:00"}
  - {id: du, type: DURATION, defaults: PT5M, min: PT10S}
  - {id: j, type: JSON, defaults: {a: [1, 2]}}
  - {id: y, type: YAML, defaults: [x]}
  - {id: m, type: MULTISELECT, values: [a, b], defaults: [a]}
  - {id: e, type: ENUM, values: [A, B], defaults: A}
  - {id: sel, type: SELECT, expression: "{{ kv('choices') }}"}
  - {id: arr, type: ARRAY, itemType: INT, defaults: [1, 2]}
  - {id: mail, type: EMAIL, defaults: a@b.io}
  - {id: dep, type: STRING, dependsOn: {inputs: [s], condition: "{{ inputs.s == '1' }}"}}
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: x
"""
    )
    assert result.valid, result.violations


def test_input_dependencies_must_exist_without_cycles():
    result = check(
        HEAD
        + """\
inputs:
  - id: a
    type: STRING
    dependsOn: {inputs: [b]}
  - id: b
    type: STRING
    dependsOn: {inputs: [a, ghost]}
tasks:
  - id: t
    type: io.kestra.plugin.core.log.Log
    message: x
"""
    )
    assert "non-existent input 'ghost'" in one(result, "inputs[1].dependsOn.inputs[1]").message
    violation = one(result, "inputs[0].dependsOn")
    assert violation.message == "Cycle dependency detected for input with id 'a': [a, b]"


def test_pause_on_resume_inputs_are_checked_like_flow_inputs():
    result = check(
        HEAD
        + """\
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
        defaults: 1
"""
    )
    assert one(result, "tasks[0].onResume[0].defaults").line == 9


def test_flow_outputs_need_id_type_and_value_and_unique_ids():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: a
    type: {LOG}
    message: x
outputs:
  - id: out
    type: STRING
  - id: out
    type: NUMBER
    value: 1
"""
    )
    assert one(result, "outputs[0].value").line == 8
    assert one(result, "outputs[1].id").message == (
        "Duplicate output id 'out' (first defined on line 8)"
    )
    assert "must be one of" in one(result, "outputs[1].type").message


# -- triggers and conditions --------------------------------------------------------------


def _trigger_flow(trigger_yaml: str) -> FlowValidation:
    return check(
        HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\ntriggers:\n" + trigger_yaml
    )


def test_a_schedule_needs_a_valid_cron():
    result = _trigger_flow("""\
  - id: s
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "61 * * * *"
  - id: t
    type: io.kestra.plugin.core.trigger.Schedule
""")
    violation = one(result, "triggers[0].cron")
    assert violation.line == 10
    assert violation.message == (
        "invalid cron expression '61 * * * *': value 61 out of range 0-59 for minutes"
    )
    assert one(result, "triggers[1].cron").message == "Missing required property 'cron'"


def test_a_six_field_cron_needs_with_seconds():
    result = _trigger_flow("""\
  - id: s
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 0 9 * * MON"
  - id: t
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 0 9 * * MON"
    withSeconds: true
""")
    assert "withSeconds" in one(result, "triggers[0].cron").message
    assert at(result, "triggers[1].cron") == []


@pytest.mark.parametrize(
    "cron",
    ["@daily", "@hourly", "*/15 9-17 * * MON-FRI", "0 0 1,15 JAN,jul *", "5 4 * * 7", "0 0 L * *"],
)
def test_cron_checker(cron):
    expected_valid = cron != "0 0 L * *"
    assert (cron_error(cron) is None) is expected_valid


def test_a_schedule_checks_timezone_and_enums_and_allows_disabled():
    result = _trigger_flow("""\
  - id: s
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "@daily"
    timezone: Mars/Olympus_Mons
    recoverMissedSchedules: SOME
    disabled: true
""")
    assert one(result, "triggers[0].timezone").line == 11
    assert "one of ALL, LAST, NONE" in one(result, "triggers[0].recoverMissedSchedules").message
    ok = _trigger_flow(
        "  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n"
        "    cron: '@daily'\n    timezone: Europe/Paris\n    disabled: true\n"
    )
    assert ok.valid


def test_triggers_need_an_id_and_a_trigger_type():
    result = _trigger_flow("""\
  - type: io.kestra.plugin.core.trigger.Webhook
    key: k
  - id: t
    type: io.kestra.plugin.core.trigger.Shedule
  - id: u
    type: io.kestra.plugin.core.log.Log
""")
    assert one(result, "triggers[0].id").line == 8
    assert (
        "Did you mean: io.kestra.plugin.core.trigger.Schedule?"
        in one(result, "triggers[1].type").message
    )
    assert "is a task type, not a trigger type" in one(result, "triggers[2].type").message


def test_a_legacy_trigger_alias_is_a_warning():
    result = _trigger_flow(
        "  - id: s\n    type: io.kestra.core.models.triggers.types.Schedule\n"
        "    cron: '0 * * * *'\n"
    )
    assert result.valid
    assert (
        "use 'io.kestra.plugin.core.trigger.Schedule'"
        in warning(result, "triggers[0].type").message
    )


def test_a_webhook_needs_a_key_and_no_multiple_condition():
    result = _trigger_flow("""\
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    conditions:
      - type: io.kestra.plugin.core.condition.MultipleCondition
        id: both
        conditions:
          a: {type: io.kestra.plugin.core.condition.ExecutionFlow, namespace: n, flowId: f}
""")
    assert one(result, "triggers[0].key").line == 8
    assert (
        "MultipleCondition are not supported"
        in one(result, "triggers[0].conditions[0].type").message
    )


def test_flow_trigger_preconditions_are_checked():
    result = _trigger_flow("""\
  - id: upstream
    type: io.kestra.plugin.core.trigger.Flow
    states: [SUCCESS, DONE]
    preconditions:
      id: both
      timeWindow:
        type: DAILY_TIME_WINDOW
        startTime: "08:00:00"
        deadline: "09:00:00"
      flows:
        - flowId: missing-namespace
      where:
        - id: w
          filters:
            - field: NAMESPACE
              type: IN
              value: company
""")
    assert one(result, "triggers[0].states[1]").line == 10
    assert one(result, "triggers[0].preconditions.timeWindow.endTime").line == 13
    assert (
        "cannot have 'deadline'"
        in one(result, "triggers[0].preconditions.timeWindow.deadline").message
    )
    assert one(result, "triggers[0].preconditions.flows[0].namespace").line == 18
    filters = "triggers[0].preconditions.where[0].filters[0]"
    assert one(result, f"{filters}.values").message == "`values` cannot be null for type IN"
    assert one(result, f"{filters}.value").message == "`value` must be null for type IN"


def test_conditions_are_checked_recursively():
    result = _trigger_flow("""\
  - id: upstream
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCES]
      - type: io.kestra.plugin.core.condition.Not
        conditions:
          - type: io.kestra.plugin.core.condition.DayWeek
            dayOfWeek: FUNDAY
      - type: io.kestra.plugin.core.condition.Nope
      - type: io.kestra.core.models.conditions.types.ExecutionFlowCondition
        namespace: n
        flowId: f
""")
    assert one(result, "triggers[0].conditions[0].in[0]").line == 12
    assert one(result, "triggers[0].conditions[1].conditions[0].dayOfWeek").line == 16
    assert one(result, "triggers[0].conditions[2].type").message.startswith(
        "Unknown condition type"
    )
    assert "deprecated" in warning(result, "triggers[0].conditions[3].type").message


# -- labels and flow-level sections -------------------------------------------------------


def test_labels_may_be_a_map_or_a_list_and_system_read_only_is_allowed():
    for labels in (
        "labels:\n  team: a\n  system.readOnly: true\n",
        "labels:\n  - key: team\n    value: a\n",
    ):
        result = check(HEAD + labels + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n")
        assert result.valid, result.violations


def test_other_system_labels_are_reserved():
    result = check(
        HEAD
        + """\
labels:
  system.correlationId: abc
tasks:
  - id: sub
    type: io.kestra.plugin.core.flow.Subflow
    namespace: other
    flowId: child
    labels:
      - key: system.username
        value: bob
"""
    )
    violation = one(result, "labels['system.correlationId']")
    assert violation.line == 4
    assert violation.message.startswith("Label key 'system.correlationId' is reserved")
    assert one(result, "tasks[0].labels[0]").line == 11


def test_label_values_must_be_scalars():
    result = check(
        HEAD + f"labels:\n  team: [a]\ntasks:\n  - id: a\n    type: {LOG}\n    message: x\n"
    )
    assert one(result, "labels.team").line == 4


def test_concurrency_needs_a_positive_limit_and_a_known_behavior():
    result = check(
        HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n"
        "concurrency:\n  behavior: WAIT\n"
    )
    assert one(result, "concurrency.limit").message == "Missing required property 'limit'"
    assert "one of QUEUE, CANCEL, FAIL" in one(result, "concurrency.behavior").message


def test_sla_rules_depend_on_the_type():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: a
    type: {LOG}
    message: x
sla:
  - id: slow
    type: MAX_DURATION
    behavior: FAIL
  - id: check
    type: EXECUTION_ASSERTION
    behavior: CANCEL
    duration: PT1H
  - id: none
    type: MAX_DURATION
    duration: PT1H
"""
    )
    assert one(result, "sla[0].duration").line == 8
    assert one(result, "sla[1].assert").line == 11
    assert one(result, "sla[1].duration").message.startswith("Unknown property")
    assert one(result, "sla[2].behavior").message == "Missing required property 'behavior'"


def test_plugin_defaults_need_type_and_values_and_task_defaults_warn():
    result = check(
        HEAD
        + f"""\
tasks:
  - id: a
    type: {LOG}
    message: x
pluginDefaults:
  - type: io.kestra.plugin.core.log.Log
taskDefaults:
  - type: io.kestra.plugin.core.log
    values: {{level: WARN}}
"""
    )
    assert one(result, "pluginDefaults[0].values").line == 8
    assert "deprecated" in warning(result, "taskDefaults").message


def test_a_flow_level_retry_is_checked():
    result = check(
        HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n"
        "retry:\n  type: random\n  minInterval: PT5S\n  maxInterval: PT1S\n"
    )
    assert one(result, "retry.minInterval").message == (
        "'minInterval' must be less than 'maxInterval' but is PT5S"
    )


# -- the public helpers -------------------------------------------------------------------


def test_line_of_finds_a_path_or_its_closest_parent():
    result = check(HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n")
    assert result.line_of("id") == 1
    assert result.line_of("tasks[0].type") == 5
    assert result.line_of("tasks[0].retry.interval") == 4
    assert result.line_of("nowhere") == 1


def test_parse_flow_returns_the_validation_when_valid():
    result = parse_flow(HEAD + f"tasks:\n  - id: a\n    type: {LOG}\n    message: x\n")
    assert result.valid
    assert result.flow_id == "demo"


def test_parse_flow_raises_with_every_violation():
    with pytest.raises(FlowSpecError) as caught:
        parse_flow(HEAD + "tasks:\n  - id: a\n    type: nope.Nope\n  - id: b\n    type: x.Y\n")
    error = caught.value
    assert error.message.startswith("Invalid flow: line 5: tasks[0].type: Unknown task type")
    assert error.message.endswith("(and 1 more problem)")
    assert [v.path for v in error.violations] == ["tasks[0].type", "tasks[1].type"]
    assert error.field == "tasks[0].type"


def test_flow_labels_reads_both_shapes_and_stringifies_values():
    assert flow_labels({"labels": {"a": True, "b": 2, "c": "x", "d": 1.5}}) == [
        {"key": "a", "value": "true"},
        {"key": "b", "value": "2"},
        {"key": "c", "value": "x"},
        {"key": "d", "value": "1.5"},
    ]
    assert flow_labels({"labels": [{"key": "a", "value": False}, {"value": "no key"}]}) == [
        {"key": "a", "value": "false"}
    ]
    assert flow_labels({}) == []
    assert flow_labels({"labels": "nonsense"}) == []


def test_the_parsed_data_is_json_ready():
    result = check(
        HEAD
        + f"""\
variables:
  day: 2024-12-03
  at: 2024-12-03T10:00:00Z
  ratio: .inf
tasks:
  - id: a
    type: {LOG}
    message: x
"""
    )
    json.dumps(result.data, allow_nan=False)
    assert result.data["variables"] == {
        "day": "2024-12-03",
        "at": "2024-12-03T10:00:00Z",
        "ratio": ".inf",
    }


@pytest.mark.parametrize(
    "source",
    [
        "id: [unclosed",
        "\t",
        "tasks: {a: 1}",
        "id: 1\nnamespace: 2\ntasks: 3\n",
        "id: x\nnamespace: y\ntasks:\n  - id: [1]\n    type: {a: b}\n",
        "id: x\nnamespace: y\ntasks:\n  - null\n  - []\n  - id: a\n    type: io.kestra.plugin.core."
        "flow.Dag\n    tasks: [1, {task: 2}, {dependsOn: 3}]\n",
        "id: x\nnamespace: y\ninputs: {a: 1}\ntriggers: [1]\noutputs: [1]\nlabels: [1]\n"
        "sla: [1]\nlisteners: 1\ntasks: [x]\n",
        "id: x\nnamespace: y\nsla: 5\nretry: 3\nconcurrency: [1]\nvariables: 1\ntriggers: {}\n"
        "outputs: 1\nlabels: 1\npluginDefaults: {}\ntasks:\n  - {id: a, type: 1}\n",
    ],
)
def test_it_never_raises_for_bad_input(source):
    result = validate_flow_source(source)
    assert not result.valid
    assert all(isinstance(v, Violation) for v in result.violations)


def test_durations_parse_like_java():
    assert parse_duration("PT0.25s").total_seconds() == 0.25
    assert parse_duration("P1DT2H").total_seconds() == 93600
    assert parse_duration("-PT1M").total_seconds() == -60
    for bad in ("P1Y", "PT", "P", "10s", "PT1.5M"):
        with pytest.raises(ValueError, match="ISO-8601"):
            parse_duration(bad)


def test_a_300_task_flow_validates_quickly():
    lines = [HEAD, "tasks:\n"]
    for index in range(100):
        lines.append(
            f"  - id: log{index}\n    type: {LOG}\n    message: hello {index}\n"
            "    retry: {type: constant, interval: PT1S, maxAttempt: 3}\n"
            f"  - id: ret{index}\n    type: io.kestra.plugin.core.debug.Return\n"
            "    format: '{{ outputs.log0 }}'\n"
            f"  - id: par{index}\n    type: io.kestra.plugin.core.flow.Parallel\n"
            f"    tasks:\n      - id: child{index}\n        type: {LOG}\n"
            "        message: x\n"
        )
    source = "".join(lines)
    validate_flow_source(source)
    best = min(_timed(source) for _ in range(3))
    assert best < 0.2


def _timed(source: str) -> float:
    started = time.perf_counter()
    result = validate_flow_source(source)
    elapsed = time.perf_counter() - started
    assert result.valid, result.violations[:3]
    return elapsed


# -- reference flows ----------------------------------------------------------------------


@pytest.mark.skipif(not CONFORMANCE_FILES, reason="kestra-conformance folder not available")
@pytest.mark.parametrize("path", CONFORMANCE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_kestra_conformance_flow_is_valid(path):
    result = validate_flow_source(path.read_text(encoding="utf-8"))
    assert result.violations == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_flow_is_valid_without_warnings(path):
    result = validate_flow_source(path.read_text(encoding="utf-8"))
    assert result.violations == []
    assert result.warnings == []
    assert result.namespace == "company.team"


def test_there_are_example_flows_including_a_disabled_schedule():
    assert len(EXAMPLES) >= 3
    schedules = [
        trigger
        for path in EXAMPLES
        for trigger in (validate_flow_source(path.read_text()).data or {}).get("triggers", [])
        if trigger["type"].endswith("trigger.Schedule")
    ]
    assert schedules
    assert all(trigger["disabled"] is True for trigger in schedules)
