"""Flowable handlers: Sequential, Parallel, If, Switch, ForEach, EachParallel, Dag."""

import json
from dataclasses import replace

import pytest

from executions.engine.flowables import HANDLERS, handler_for
from executions.engine.states import State
from tests.executions.engine.helpers import Stepper, run, states

LOG = "io.kestra.plugin.core.log.Log"
FAIL = "io.kestra.plugin.core.execution.Fail"


def _logs(*ids: str, indent: int = 6) -> str:
    pad = " " * indent
    return "".join(f"{pad}- id: {i}\n{pad}  type: {LOG}\n{pad}  message: {i}\n" for i in ids)


def test_it_registers_a_handler_per_core_flowable():
    assert set(HANDLERS) >= {
        f"io.kestra.plugin.core.flow.{name}"
        for name in (
            "Sequential",
            "Parallel",
            "If",
            "Switch",
            "ForEach",
            "Dag",
            "AllowFailure",
            "Pause",
            "WaitFor",
        )
    }
    assert handler_for("io.kestra.plugin.core.flow.WorkingDirectory") is None


def test_it_runs_a_sequential_in_order_after_starting_it():
    stepper = Stepper(
        "tasks:\n  - id: seq\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n"
        + _logs("a", "b")
    )
    stepper.decide()
    assert stepper.state("seq") is State.RUNNING
    assert stepper.sent() == ["a"]
    assert stepper.run_of("a").parent_task_run_id == stepper.run_of("seq").id
    stepper.finish("a")
    stepper.decide()
    assert stepper.sent() == ["b"]
    stepper.finish("b")
    stepper.decide()
    assert stepper.state("seq") is State.SUCCESS
    assert stepper.execution.current is State.SUCCESS


def _parallel(concurrent: int) -> str:
    return (
        "tasks:\n  - id: par\n    type: io.kestra.plugin.core.flow.Parallel\n"
        f"    concurrent: {concurrent}\n    tasks:\n" + _logs("a", "b", "c", "d")
    )


def test_it_starts_every_parallel_child_at_once():
    stepper = Stepper(_parallel(0))
    stepper.decide()
    assert stepper.sent() == ["a", "b", "c", "d"]


def test_it_keeps_parallel_children_within_the_concurrency_limit():
    stepper = Stepper(_parallel(2))
    stepper.decide()
    assert stepper.sent() == ["a", "b"]
    stepper.finish("a")
    stepper.decide()
    assert stepper.sent() == ["c"]
    stepper.finish("b")
    stepper.finish("c")
    stepper.decide()
    assert stepper.sent() == ["d"]


def test_it_creates_no_new_parallel_child_after_a_failure():
    stepper = Stepper(
        "tasks:\n  - id: par\n    type: io.kestra.plugin.core.flow.Parallel\n    concurrent: 1\n"
        f"    tasks:\n      - id: boom\n        type: {FAIL}\n" + _logs("later")
    )
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    assert stepper.state("par") is State.FAILED
    assert [r.task_id for r in stepper.execution.task_runs] == ["par", "boom"]


IF = """
tasks:
  - id: if
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.go }}"
    then:
      - id: yes-branch
        type: io.kestra.plugin.core.log.Log
        message: then
    else:
      - id: no-branch
        type: io.kestra.plugin.core.log.Log
        message: else
"""


@pytest.mark.parametrize(
    ("_case", "value", "branch", "result"),
    [
        ("true", "true", "yes-branch", True),
        ("one", "1", "yes-branch", True),
        ("any text", "False", "yes-branch", True),
        ("false", "false", "no-branch", False),
        ("zero", "0", "no-branch", False),
        ("minus zero", "-0", "no-branch", False),
        ("empty", "", "no-branch", False),
    ],
)
def test_it_chooses_the_if_branch_once_by_truthiness(_case, value, branch, result):
    stepper = Stepper(IF, inputs={"go": value})
    stepper.decide()
    assert stepper.run_of("if").outputs == {"evaluationResult": result}
    assert stepper.sent() == [branch]


def test_it_ends_an_if_without_else_in_success_with_no_child():
    stepper = Stepper(
        'tasks:\n  - id: if\n    type: io.kestra.plugin.core.flow.If\n    condition: "0"\n'
        "    then:\n" + _logs("t")
    )
    stepper.decide()
    assert stepper.state("if") is State.SUCCESS
    assert len(stepper.execution.task_runs) == 1
    assert stepper.execution.current is State.SUCCESS


def test_it_fails_an_if_whose_condition_cannot_render():
    stepper = Stepper(IF, inputs={})
    actions = stepper.decide()
    assert stepper.state("if") is State.FAILED
    assert any("Unable to find" in getattr(a, "message", "") for a in actions)
    assert stepper.execution.current is State.FAILED


def test_it_does_not_change_branch_when_inputs_change_later():
    stepper = Stepper(IF, inputs={"go": "true"})
    stepper.decide()
    stepper.execution = replace(stepper.execution, inputs={"go": "false"})
    stepper.finish("yes-branch")
    stepper.decide()
    assert [r.task_id for r in stepper.execution.task_runs] == ["if", "yes-branch"]
    assert stepper.state("if") is State.SUCCESS


SWITCH = """
tasks:
  - id: switch
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.kind }}"
    cases:
      A:
        - id: case-a
          type: io.kestra.plugin.core.log.Log
          message: a
    defaults:
      - id: fallback
        type: io.kestra.plugin.core.log.Log
        message: d
"""


def test_it_runs_the_matching_switch_case():
    stepper = Stepper(SWITCH, inputs={"kind": "A"})
    stepper.decide()
    assert stepper.run_of("switch").outputs == {"value": "A", "defaults": False}
    assert stepper.sent() == ["case-a"]


def test_it_runs_switch_defaults_when_no_case_matches():
    stepper = Stepper(SWITCH, inputs={"kind": "Z"})
    stepper.decide()
    assert stepper.run_of("switch").outputs == {"value": "Z", "defaults": True}
    assert stepper.sent() == ["fallback"]


def test_it_fails_a_switch_with_no_match_and_no_defaults():
    stepper = Stepper(
        'tasks:\n  - id: switch\n    type: io.kestra.plugin.core.flow.Switch\n    value: "B"\n'
        "    cases:\n      A:\n" + _logs("a", indent=8)
    )
    stepper.decide()
    assert stepper.state("switch") is State.FAILED
    assert stepper.execution.current is State.FAILED


def _foreach(values: str, limit: int | None = None, extra: str = "") -> str:
    limit_line = f"    concurrencyLimit: {limit}\n" if limit is not None else ""
    return (
        "tasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
        f"    values: {values}\n{limit_line}{extra}    tasks:\n" + _logs("a", "b")
    )


def test_it_iterates_foreach_values_one_value_at_a_time_by_default():
    stepper = Stepper(_foreach('\'["x", "y"]\''))
    stepper.decide()
    assert stepper.run_of("each").engine_state == {"values": ["x", "y"]}
    assert [(r.task_id, r.value) for r in stepper.execution.task_runs[1:]] == [("a", "x")]
    stepper.finish("a", value="x")
    stepper.decide()
    assert stepper.sent() == ["b"]
    stepper.finish("b", value="x")
    stepper.decide()
    assert [(r.task_id, r.value) for r in stepper.execution.task_runs[-1:]] == [("a", "y")]


def test_it_runs_foreach_values_concurrently_within_the_limit():
    stepper = Stepper(_foreach("[v1, v2, v3]", limit=2))
    stepper.decide()
    assert [(r.task_id, r.value) for r in stepper.execution.task_runs[1:]] == [
        ("a", "v1"),
        ("a", "v2"),
    ]
    stepper.finish("a", value="v1")
    stepper.decide()
    # v1 goes on with its second task; v3 waits for a free slot
    assert [(r.task_id, r.value) for r in stepper.execution.task_runs[3:]] == [("b", "v1")]


def test_it_runs_every_foreach_value_at_once_with_limit_zero():
    stepper = Stepper(_foreach("[v1, v2, v3]", limit=0))
    stepper.decide()
    assert [r.value for r in stepper.execution.task_runs[1:]] == ["v1", "v2", "v3"]


def test_it_deduplicates_foreach_values_and_encodes_non_strings_as_json():
    result = run(_foreach('\'[1, "a", 1, {"k": "v"}, true]\''))
    values = [r.value for r in result.execution.task_runs if r.task_id == "a"]
    assert values == ["1", "a", '{"k":"v"}', "true"]
    assert result.execution.current is State.SUCCESS


def test_it_turns_yaml_booleans_and_floats_into_their_text():
    result = run(_foreach("[1, 2.5, true, text]"))
    assert [r.value for r in result.execution.task_runs if r.task_id == "a"] == [
        "1",
        "2.5",
        "true",
        "text",
    ]


def test_it_fails_a_foreach_with_null_values():
    result = run(_foreach("'[1, null]'"))
    assert result.execution.current is State.FAILED
    assert len(result.execution.task_runs) == 1
    assert "Found '1' null values on Each, with values=[1, null]" in [
        line.message for line in result.logs
    ]


def test_it_ends_a_foreach_over_nothing_in_success():
    result = run(_foreach("'[]'"))
    assert states(result) == {"each": "SUCCESS"}


def test_it_runs_foreach_errors_after_a_failing_value():
    result = run(
        "tasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
        "    values: [v1, v2]\n    tasks:\n"
        f"      - id: boom\n        type: {FAIL}\n"
        "    errors:\n" + _logs("cleanup")
    )
    assert states(result) == {"each": "FAILED", "boom[v1]": "FAILED", "cleanup": "SUCCESS"}


def test_it_gives_foreach_children_outputs_by_value():
    result = run(
        "tasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
        "    values: [v1, v2]\n    tasks:\n"
        "      - id: ret\n        type: io.kestra.plugin.core.debug.Return\n"
        "        format: got {{ taskrun.value }}\n"
        "  - id: after\n    type: io.kestra.plugin.core.debug.Return\n"
        "    format: \"{{ outputs.ret['v2'].value }}\"\n"
    )
    assert result.task_run("after").outputs == {"value": "got v2"}


def test_it_runs_each_parallel_values_and_children_at_once():
    stepper = Stepper(
        "tasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.EachParallel\n"
        "    value: [v1, v2]\n    tasks:\n" + _logs("a", "b")
    )
    stepper.decide()
    assert [(r.task_id, r.value) for r in stepper.execution.task_runs[1:]] == [
        ("a", "v1"),
        ("b", "v1"),
        ("a", "v2"),
        ("b", "v2"),
    ]


def test_it_runs_an_each_sequential_like_a_foreach_of_limit_one():
    stepper = Stepper(
        "tasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.EachSequential\n"
        f"    value: {json.dumps(['v1', 'v2'])}\n    tasks:\n" + _logs("a")
    )
    stepper.decide()
    assert [r.value for r in stepper.execution.task_runs[1:]] == ["v1"]


DAG = """
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: extract
          type: io.kestra.plugin.core.log.Log
          message: e
      - task:
          id: transform-a
          type: io.kestra.plugin.core.log.Log
          message: a
        dependsOn: [extract]
      - task:
          id: transform-b
          type: io.kestra.plugin.core.log.Log
          message: b
        dependsOn: [extract]
      - task:
          id: load
          type: io.kestra.plugin.core.log.Log
          message: l
        dependsOn: [transform-a, transform-b]
"""


def test_it_runs_a_dag_in_dependency_order():
    stepper = Stepper(DAG)
    stepper.decide()
    assert stepper.sent() == ["extract"]
    stepper.finish("extract")
    stepper.decide()
    assert stepper.sent() == ["transform-a", "transform-b"]
    stepper.finish("transform-a")
    stepper.decide()
    assert stepper.sent() == []
    stepper.finish("transform-b")
    stepper.decide()
    assert stepper.sent() == ["load"]
    stepper.finish("load")
    stepper.decide()
    assert stepper.state("dag") is State.SUCCESS


def test_it_turns_an_allow_failure_flowable_failure_into_a_warning():
    result = run(
        "tasks:\n  - id: af\n    type: io.kestra.plugin.core.flow.AllowFailure\n    tasks:\n"
        f"      - id: boom\n        type: {FAIL}\n"
    )
    assert states(result) == {"af": "WARNING", "boom": "FAILED"}
    assert result.execution.current is State.WARNING
