"""The decision function stays fast on big executions: indexes, no quadratic scans."""

import json
import time
from dataclasses import replace

from executions.engine.actions import CreateTaskRuns, EndExecution
from executions.engine.decide import decide
from executions.engine.model import Attempt, Execution, TaskRun, new_execution
from executions.engine.states import State, StateHistory, Transition
from tests.executions.engine.fakes import Counter, fake_renderer
from tests.executions.engine.helpers import START, flow

BUDGET_SECONDS = 0.005


RUNNING = StateHistory((Transition(State.CREATED, START), Transition(State.RUNNING, START)))
DONE = StateHistory((*RUNNING.histories, Transition(State.SUCCESS, START)))
ATTEMPT_DONE = Attempt(
    StateHistory((Transition(State.RUNNING, START), Transition(State.SUCCESS, START)))
)


def _task_run(
    number: int,
    task_id: str,
    *,
    parent: str | None = None,
    value: str | None = None,
    state: StateHistory = DONE,
    flowable: bool = False,
) -> TaskRun:
    return TaskRun(
        id=f"run-{number}",
        task_id=task_id,
        state=state,
        parent_task_run_id=parent,
        value=value,
        attempts=() if flowable else (ATTEMPT_DONE,),
        outputs={},
    )


def _running_execution(spec, task_runs: list[TaskRun]) -> Execution:
    execution = new_execution(
        execution_id="exec", namespace=spec.namespace, flow_id=spec.id, flow_revision=1, now=START
    )
    return replace(execution, state=RUNNING, task_runs=tuple(task_runs))


def _best_of(repeat: int, call) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def test_it_decides_on_a_thousand_task_runs_in_under_five_milliseconds():
    # given a ForEach of 500 values x 2 tasks whose very last task just reported success
    values = json.dumps([f"v{i}" for i in range(500)])
    spec = flow(
        f"""
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: '{values}'
            concurrencyLimit: 0
            tasks:
              - id: a
                type: io.kestra.plugin.core.log.Log
                message: a
              - id: b
                type: io.kestra.plugin.core.log.Log
                message: b
          - id: last
            type: io.kestra.plugin.core.log.Log
            message: last
        """
    )
    each = replace(
        _task_run(0, "each", state=RUNNING, flowable=True),
        engine_state={"values": [f"v{i}" for i in range(500)]},
    )
    children = [
        _task_run(1 + 2 * i + k, task_id, parent=each.id, value=f"v{i}")
        for i in range(500)
        for k, task_id in enumerate("ab")
    ]
    children[-1] = replace(children[-1], state=RUNNING)  # its attempt just ended
    execution = _running_execution(spec, [each, *children])
    assert len(execution.task_runs) == 1001
    now = START

    # when the executor decides
    actions = decide(spec, execution, now, renderer=fake_renderer, ids=Counter("x"))

    # then it finishes the task, the ForEach, and starts the next task, quickly
    created = next(a for a in actions if isinstance(a, CreateTaskRuns))
    assert [task_run.task_id for task_run in created.task_runs] == ["last"]
    elapsed = _best_of(
        5, lambda: decide(spec, execution, now, renderer=fake_renderer, ids=Counter("x"))
    )
    assert elapsed < BUDGET_SECONDS, f"decide took {elapsed * 1000:.2f} ms"


def test_it_decides_on_a_long_sequential_flow_quickly():
    # given 1,000 top-level tasks, all done but the last one, which just reported
    body = "tasks:\n" + "".join(
        f"  - id: t{i}\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
        for i in range(1000)
    )
    spec = flow(body)
    task_runs = [_task_run(i, f"t{i}") for i in range(1000)]
    task_runs[-1] = replace(task_runs[-1], state=RUNNING)
    execution = _running_execution(spec, task_runs)
    now = START

    actions = decide(spec, execution, now, renderer=fake_renderer, ids=Counter("x"))

    assert EndExecution(State.SUCCESS, None) in actions
    elapsed = _best_of(
        5, lambda: decide(spec, execution, now, renderer=fake_renderer, ids=Counter("x"))
    )
    assert elapsed < BUDGET_SECONDS, f"decide took {elapsed * 1000:.2f} ms"
