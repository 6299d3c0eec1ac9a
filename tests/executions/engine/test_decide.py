"""The decision function, one rule at a time."""

from executions.engine.actions import (
    CreateTaskRuns,
    EmitLog,
    EndExecution,
    SetExecutionState,
)
from executions.engine.apply import apply_actions
from executions.engine.decide import decide
from executions.engine.states import State
from tests.executions.engine.fakes import Counter, fake_renderer
from tests.executions.engine.helpers import START, Stepper

LOG = "io.kestra.plugin.core.log.Log"
FAIL = "io.kestra.plugin.core.execution.Fail"

TWO_TASKS = f"""
tasks:
  - id: first
    type: {LOG}
    message: one
  - id: second
    type: {LOG}
    message: two
"""


def _logs(actions):
    return [a.message for a in actions if isinstance(a, EmitLog)]


def test_it_starts_the_flow_with_its_first_task_only():
    stepper = Stepper(TWO_TASKS)
    actions = stepper.decide()
    assert stepper.kinds() == ["SetExecutionState", "CreateTaskRuns", "RunTaskRun"]
    assert actions[0] == SetExecutionState(State.RUNNING)
    assert "Flow started" in _logs(actions)
    created = next(a for a in actions if isinstance(a, CreateTaskRuns))
    assert [(r.task_id, r.parent_task_run_id, r.value, r.current) for r in created.task_runs] == [
        ("first", None, None, State.CREATED)
    ]
    assert stepper.execution.current is State.RUNNING


def test_it_sends_a_task_run_to_a_worker_once():
    stepper = Stepper(TWO_TASKS)
    stepper.decide()
    assert stepper.sent() == ["first"]
    assert stepper.decide() == []  # still CREATED, already sent: nothing to do
    stepper.start("first")
    assert stepper.decide() == []  # running on the worker


def test_it_runs_tasks_one_after_the_other_and_ends():
    stepper = Stepper(TWO_TASKS)
    stepper.decide()
    stepper.finish("first")
    stepper.decide()
    assert stepper.state("first") is State.SUCCESS
    assert stepper.sent() == ["second"]
    stepper.finish("second")
    actions = stepper.decide()
    assert EndExecution(State.SUCCESS, None) in actions
    assert stepper.execution.current is State.SUCCESS
    assert any(m.startswith("Flow completed with state SUCCESS") for m in _logs(actions))


def test_it_decides_the_same_way_twice_on_the_same_snapshot():
    stepper = Stepper(TWO_TASKS)
    stepper.decide()
    stepper.finish("first")
    first = decide(stepper.spec, stepper.execution, START, renderer=fake_renderer, ids=Counter("x"))
    again = decide(stepper.spec, stepper.execution, START, renderer=fake_renderer, ids=Counter("x"))
    assert first == again


def test_it_applies_actions_in_memory_like_the_decision_saw_them():
    stepper = Stepper(TWO_TASKS)
    before = stepper.execution
    actions = decide(stepper.spec, before, START, renderer=fake_renderer, ids=Counter())
    after = apply_actions(before, actions, START)
    assert after.current is State.RUNNING
    assert [r.task_id for r in after.task_runs] == ["first"]
    assert before.task_runs == ()


def test_it_ends_failed_from_the_main_tasks_even_when_errors_succeed():
    stepper = Stepper(
        f"""
        tasks:
          - id: boom
            type: {FAIL}
          - id: never
            type: {LOG}
            message: never
        errors:
          - id: handler
            type: {LOG}
            message: handled
          - id: handler2
            type: {LOG}
            message: handled too
        """
    )
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    assert stepper.sent() == ["handler"]  # errors run one after the other
    stepper.finish("handler")
    stepper.decide()
    assert stepper.sent() == ["handler2"]
    stepper.finish("handler2")
    stepper.decide()
    assert stepper.execution.current is State.FAILED
    assert [r.task_id for r in stepper.execution.task_runs] == ["boom", "handler", "handler2"]


def test_it_ends_failed_at_once_when_there_is_no_errors_branch():
    stepper = Stepper(
        f"tasks:\n  - id: boom\n    type: {FAIL}\n  - id: next\n    type: {LOG}\n    message: x\n"
    )
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    assert stepper.execution.current is State.FAILED
    assert len(stepper.execution.task_runs) == 1


NESTED_ERRORS = f"""
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: boom
            type: {FAIL}
          - id: skipped-by-failure
            type: {LOG}
            message: never
        errors:
          - id: inner-handler
            type: {LOG}
            message: inner
    errors:
      - id: outer-handler
        type: {LOG}
        message: outer
errors:
  - id: flow-handler
    type: {LOG}
    message: flow
"""


def test_it_runs_local_errors_then_each_enclosing_errors_branch():
    stepper = Stepper(NESTED_ERRORS)
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    assert stepper.sent() == ["inner-handler"]
    assert stepper.state("inner") is State.RUNNING  # waits for its errors branch
    stepper.finish("inner-handler")
    stepper.decide()
    assert stepper.state("inner") is State.FAILED  # errors never change the state
    assert stepper.sent() == ["outer-handler"]
    stepper.finish("outer-handler")
    stepper.decide()
    assert stepper.state("outer") is State.FAILED
    assert stepper.sent() == ["flow-handler"]
    stepper.finish("flow-handler")
    stepper.decide()
    assert stepper.execution.current is State.FAILED
    assert "skipped-by-failure" not in [r.task_id for r in stepper.execution.task_runs]


def test_it_ends_a_parallel_failure_at_once_and_records_siblings_later():
    stepper = Stepper(
        f"""
        tasks:
          - id: par
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: slow
                type: {LOG}
                message: slow
              - id: boom
                type: {FAIL}
        """
    )
    stepper.decide()
    assert sorted(stepper.sent()) == ["boom", "slow"]
    stepper.start("slow")
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    assert stepper.state("par") is State.FAILED  # correction 3: no wait for `slow`
    assert stepper.execution.current is State.FAILED
    stepper.finish("slow")
    stepper.decide()  # a terminated execution still records late results
    assert stepper.state("slow") is State.SUCCESS
    assert stepper.execution.current is State.FAILED


def test_it_skips_disabled_tasks_entirely():
    stepper = Stepper(
        f"""
        tasks:
          - id: disabled-one
            type: {LOG}
            message: disabled
            disabled: true
          - id: enabled-one
            type: {LOG}
            message: say on
        """
    )
    stepper.decide()
    assert stepper.sent() == ["enabled-one"]
    assert [r.task_id for r in stepper.execution.task_runs] == ["enabled-one"]


def test_it_ends_a_flowable_whose_children_are_all_disabled_in_success():
    stepper = Stepper(
        f"""
        tasks:
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            tasks:
              - id: disabled-one
                type: {LOG}
                message: disabled
                disabled: true
          - id: after
            type: {LOG}
            message: after
        """
    )
    stepper.decide()
    assert stepper.state("seq") is State.SUCCESS  # correction 4
    assert stepper.sent() == ["after"]


def test_it_ends_a_flow_whose_tasks_are_all_disabled_in_success_with_no_task_run():
    stepper = Stepper(
        f"tasks:\n  - id: disabled-one\n    type: {LOG}\n    message: x\n    disabled: true\n"
    )
    stepper.decide()
    assert stepper.execution.current is State.SUCCESS
    assert stepper.execution.task_runs == ()


RUN_IF = f"""
tasks:
  - id: go
    type: {LOG}
    message: say yes
    runIf: "{{{{ inputs.go }}}}"
  - id: stop
    type: {LOG}
    message: say no
    runIf: "{{{{ inputs.stop }}}}"
  - id: broken
    type: {LOG}
    message: broken
    runIf: "{{{{ outputs.missing.value }}}}"
"""


def test_it_skips_a_task_whose_run_if_is_falsy_and_fails_one_that_cannot_render():
    stepper = Stepper(RUN_IF, inputs={"go": "true", "stop": "0"})
    stepper.decide()
    assert stepper.sent() == ["go"]
    stepper.finish("go")
    stepper.decide()
    assert stepper.state("stop") is State.SKIPPED
    assert stepper.state("broken") is State.FAILED
    assert any(
        m.startswith("Unable to evaluate the runIf condition for task broken: Unable to find")
        for m in _logs(stepper.actions)
    )
    assert stepper.execution.current is State.FAILED


def test_it_skips_a_flowable_with_a_falsy_run_if_without_creating_children():
    stepper = Stepper(
        f"""
        tasks:
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            runIf: "false"
            tasks:
              - id: child
                type: {LOG}
                message: child
        """
    )
    stepper.decide()
    assert stepper.state("seq") is State.SKIPPED
    assert [r.task_id for r in stepper.execution.task_runs] == ["seq"]
    assert stepper.execution.current is State.SUCCESS


def test_it_turns_an_allowed_failure_into_a_warning():
    stepper = Stepper(
        f"tasks:\n  - id: boom\n    type: {FAIL}\n    allowFailure: true\n"
        f"  - id: next\n    type: {LOG}\n    message: x\n"
    )
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    assert stepper.state("boom") is State.WARNING
    assert stepper.sent() == ["next"]
    stepper.finish("next")
    stepper.decide()
    assert stepper.execution.current is State.WARNING


def test_it_turns_an_allowed_warning_into_a_success():
    stepper = Stepper(
        f"tasks:\n  - id: t\n    type: {LOG}\n    message: x\n    allowWarning: true\n"
    )
    stepper.decide()
    stepper.finish("t", State.WARNING)
    stepper.decide()
    assert stepper.state("t") is State.SUCCESS
    assert stepper.execution.current is State.SUCCESS


def test_it_applies_allow_failure_and_allow_warning_of_a_flowable():
    stepper = Stepper(
        f"""
        tasks:
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            allowFailure: true
            tasks:
              - id: boom
                type: {FAIL}
              - id: never
                type: {LOG}
                message: never
          - id: seq2
            type: io.kestra.plugin.core.flow.Sequential
            allowFailure: true
            allowWarning: true
            tasks:
              - id: boom2
                type: {FAIL}
        """
    )
    stepper.decide()
    stepper.finish("boom", State.FAILED)
    stepper.decide()
    assert stepper.state("seq") is State.WARNING
    stepper.finish("boom2", State.FAILED)
    stepper.decide()
    assert stepper.state("seq2") is State.SUCCESS
    assert stepper.execution.current is State.WARNING
