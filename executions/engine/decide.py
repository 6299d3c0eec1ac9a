"""The executor's decision function: `decide(flow, execution, now) -> list[Action]`.

One pass does, in this order (Kestra's `ExecutorService.process`, §3.3):
1. nothing for a QUEUED execution, or one scheduled later (a `WakeUp`). A PAUSED one only
   records what its running tasks report (a failure that a retry policy covers waits for the
   resume) and wakes the paused task runs whose wait is over (a Pause's `delay` or
   `timeout`, a WaitFor's `interval`); once none is left paused, it goes on. RESTARTED →
   RUNNING;
2. attempts past their `timeout` end FAILED (the worker should have stopped them);
3. every ended attempt becomes its task run's state: a FAILED one is retried while the
   effective policy allows it (`ScheduleRetry`, or `RetryExecution`), then `allowFailure`,
   `warningOnRetry` (correction 5) and `allowWarning` apply (corrections 7);
   The flow's EXECUTION_ASSERTION SLAs are evaluated then (engine/sla.py; on a PAUSED
   execution that stays paused too): a violation with behavior FAIL or CANCEL ends the
   execution there;
4. retries that are due put their task run back to CREATED and send it again;
5. KILLING: created task runs are KILLED, running flowables KILLING, running tasks are
   asked to stop, and the execution is KILLED in the same pass (correction 8);
6. then, until nothing changes: flowables whose children say so end (deepest first); the
   end of the execution is detected (state from the main `tasks` only, flow outputs
   rendered; over `sizes.MAX_OUTPUTS` they fail it); next task runs are created (the
   flow's own list, then each running flowable's); new task runs get their `runIf`
   evaluated (falsy → SKIPPED, an error → FAILED), flowables start (If's condition,
   Switch's value, ForEach's values are evaluated once) and runnable ones go to a worker
   (`RunTaskRun`); a flowable that starts waiting (Pause, WaitFor) pauses the execution,
   and the pass stops there.

Actions are applied to a working copy as they are decided, so the list is exactly what the
caller must apply, in order. A pass reads indexes (by id, by parent, unfinished runs): its
cost grows with the unfinished work, not with the whole history.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from executions.engine.actions import (
    Action,
    CreateTaskRuns,
    EmitLog,
    EndExecution,
    FinishAttempt,
    KillTaskRun,
    RetryExecution,
    RunTaskRun,
    ScheduleRetry,
    SetExecutionState,
    SetTaskRunState,
    StartAttempt,
    StartSubflow,
    WakeUp,
)
from executions.engine.apply import Draft
from executions.engine.flow import (
    CREATE_NEW_EXECUTION,
    FOR_EACH_ITEM_EXECUTABLE,
    FOR_EACH_ITEM_SPLIT,
    FlowSpec,
    TaskSpec,
)
from executions.engine.flowables import handler_for
from executions.engine.flowables.base import (
    Child,
    ChildRuns,
    FlowableContext,
    FlowableError,
    Outcome,
    enabled,
    in_errors_branch,
    plain,
    sequential_nexts,
)
from executions.engine.flowables.waits import resume_date
from executions.engine.model import Execution, IdFactory, TaskRun, new_id
from executions.engine.rendering import (
    RendererFactory,
    RenderError,
    Templates,
    expressions_renderer,
    truthy,
)
from executions.engine.retry import next_retry
from executions.engine.sealed_inputs import (
    open_inputs,
    resumed_secret_texts,
    secret_input_ids,
    secret_texts,
    unsealer,
)
from executions.engine.sizes import check_outputs, truncate_line
from executions.engine.sla import assertion_violations, assertions_due, violation_actions
from executions.engine.states import State, StateHistory, final_state
from executions.engine.subflows import (
    BATCHES,
    SUBFLOWS,
    TRANSMIT_FAILED,
    WAIT,
    SubflowError,
    batch_uris,
    flag,
    subflow_request,
)
from executions.engine.tasks.base import mask_secrets, timeout_message
from executions.engine.variables import (
    RunEnvironment,
    base_variables,
    inputs_with_defaults,
    output_variables,
    task_variables,
    with_task_outputs,
)

_MAX_ROUNDS = 1000  # a safety net: each round creates or ends something, or stops


def decide(
    flow: FlowSpec,
    execution: Execution,
    now: datetime,
    *,
    renderer: RendererFactory | None = None,
    ids: IdFactory | None = None,
    environment: RunEnvironment | None = None,
    services: Any = None,
) -> list[Action]:
    """What happens next to `execution`. No I/O and no clock: `now` dates every change.
    `renderer` defaults to `flows.expressions`, `ids` to random Kestra-like ids."""
    return _Decision(flow, execution, now, renderer, ids, environment, services).run()


class _Decision:
    def __init__(
        self,
        flow: FlowSpec,
        execution: Execution,
        now: datetime,
        renderer: RendererFactory | None,
        ids: IdFactory | None,
        environment: RunEnvironment | None,
        services: Any,
    ) -> None:
        self.flow = flow
        self.now = now
        self.draft = Draft(execution, now)
        self.renderer = renderer or expressions_renderer
        self.ids = ids or new_id
        self.environment = environment or RunEnvironment()
        self.services = services
        self.actions: list[Action] = []
        self.fresh: dict[str, bool] = {}  # CREATED in this pass -> evaluate runIf?
        self.deadlines: list[datetime] = []
        self.pause_ends: list[datetime] = []  # paused task runs that go on by themselves
        self.paused = False  # a flowable started waiting in this pass
        self._base: dict[str, Any] | None = None
        self._base_version = -1
        self._top: tuple[int, list[Child], list[Child], ChildRuns] | None = None
        self.unseal = unsealer(services)
        self.secret_ids = secret_input_ids(flow.inputs)
        self._made: list[Templates] = []  # what they reveal through secret() is masked
        self._input_secrets: set[str] | None = None

    # --- plumbing ------------------------------------------------------------------
    def emit(self, action: Action) -> None:
        self.actions.append(action)
        self.draft.apply(action)

    def log(self, level: str, message: str, task_run_id: str | None = None) -> None:
        self.emit(EmitLog(level, truncate_line(self.mask(message)), task_run_id))

    def mask(self, message: str) -> str:
        """Values of `secret()` calls and of SECRET inputs never reach a log line."""
        secrets = {secret for templates in self._made for secret in templates.secrets_seen}
        if self.secret_ids or self.flow.secret_resumes:
            if self._input_secrets is None:
                self._input_secrets = self._secret_values()
            secrets |= self._input_secrets
        return mask_secrets(message, secrets) if secrets else message

    def _secret_values(self) -> set[str]:
        """Clear values of the SECRET inputs and of the SECRET `onResume` values given."""
        texts: set[str] = set()
        if self.secret_ids:
            try:
                opened = open_inputs(self.draft.base.inputs, self.secret_ids, self.unseal)
            except RenderError:
                opened = {}
            inputs = inputs_with_defaults(self.flow, opened)
            texts = secret_texts(inputs, self.secret_ids)
        if self.flow.secret_resumes:
            try:
                outputs = self.base_variables().get("outputs") or {}
            except RenderError:
                outputs = {}
            texts |= resumed_secret_texts(outputs, self.flow.secret_resumes)
        return texts

    def set_state(self, task_run_id: str, state: State, **changes: Any) -> None:
        self.emit(SetTaskRunState(task_run_id, state, **changes))

    def templates(
        self,
        task: TaskSpec,
        task_run: TaskRun,
        taskrun: dict[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> Templates:
        """Rendering for `task_run`; `taskrun` adds to its `taskrun` variable; with
        `outputs`, as if they were its outputs."""
        base = self.base_variables()
        if outputs is not None:
            task_run = replace(task_run, outputs=outputs)
            base = with_task_outputs(base, task_run, self.draft.runs)
        variables = task_variables(base, task, task_run, self.draft.runs)
        if taskrun:
            variables["taskrun"] = {**variables["taskrun"], **taskrun}
        return self.made(self.renderer(variables, self.services))

    def base_variables(self) -> dict[str, Any]:
        """The execution's variables (no task's), kept while the draft does not change."""
        if self._base is None or self._base_version != self.draft.version:
            self._base = base_variables(
                self.flow,
                self.draft.execution_view(),
                self.draft.all_runs(),
                self.draft.runs,
                self.environment,
                unseal=self.unseal,
            )
            self._base_version = self.draft.version
        return self._base

    def made(self, templates: Templates) -> Templates:
        self._made.append(templates)
        return templates

    def context(self, task: TaskSpec, task_run: TaskRun) -> FlowableContext:
        return FlowableContext(
            task,
            task_run,
            self.draft,
            lambda: self.templates(task, task_run),
            lambda outputs: self.templates(task, task_run, outputs=outputs),
        )

    # --- the pass ------------------------------------------------------------------
    def run(self) -> list[Action]:
        current = self.draft.current
        if current.terminated:
            self.record_late_results()
            return self.actions
        if current is State.QUEUED:
            return self.actions
        schedule = self.draft.base.schedule_date
        if current is State.CREATED and schedule is not None and schedule > self.now:
            self.emit(WakeUp(schedule, "scheduled start"))
            return self.actions
        if current is State.PAUSED and not self.go_on_when_paused():
            self.check_slas()
            return self.actions
        if self.draft.current is State.RESTARTED:
            self.emit(SetExecutionState(State.RUNNING))
            self.log("INFO", "Flow restarted")
        self.rerun_restarted()
        self.enforce_timeouts()
        killing = self.draft.current is State.KILLING
        if self.finish_attempts(allow_retry=not killing):
            return self.actions  # retried as a new execution: this one is over
        if not killing and self.check_slas():
            return self.actions
        self.resume_due_retries()
        if self.draft.current is State.KILLING:
            self.kill()
            return self.actions
        self.advance()
        if self.deadlines and not self.draft.current.terminated:
            self.emit(WakeUp(min(self.deadlines), "task timeout"))
        self.request_pause_ends()
        return self.actions

    # --- SLA -----------------------------------------------------------------------
    def check_slas(self) -> bool:
        """EXECUTION_ASSERTION SLAs, evaluated on every pass over an unfinished execution
        once the attempts that ended are task run states (as Kestra's worker results are
        before it evaluates them) and before anything new starts; True when a violation
        ended the execution."""
        if not self.flow.sla:
            return False
        due = assertions_due(self.flow.sla, self.draft.base)
        if not due:
            return False
        templates = self.made(self.renderer(dict(self.base_variables()), self.services))
        violations, errors = assertion_violations(due, templates.render)
        for error in errors:
            self.log("ERROR", error)
        for action in violation_actions(violations, self.draft.current, self.draft.open_runs()):
            self.emit(action)
        return self.draft.current.terminated

    # --- waiting -------------------------------------------------------------------
    def go_on_when_paused(self) -> bool:
        """A PAUSED execution: record what running tasks report, wake the paused task runs
        whose wait is over; True when none is left paused and the pass goes on."""
        self.finish_attempts(allow_retry=False, paused=True)
        if not self.wake_paused():
            self.request_pause_ends()
            return False
        return True

    def wake_paused(self) -> bool:
        """Paused task runs past their `resumeAt` go on (`Outcome` of their handler); True
        when the execution itself goes on (no paused task run is left)."""
        woke: list[State] = []
        left = False
        for task_run in self.draft.open_runs():
            if task_run.current is not State.PAUSED:
                continue
            at = resume_date(task_run)
            task = self.flow.find(task_run.task_id)
            handler = handler_for(task.type) if task is not None and task.flowable else None
            if at is None or at > self.now or task is None or handler is None:
                left = True
                continue
            outcome = handler.resumed(task, task_run, expired=True, inputs=None)
            if outcome.state is State.FAILED:
                waited = (at - task_run.state.last_date).total_seconds()
                self.log("ERROR", f"Not resumed within its timeout ({waited:g}s)", task_run.id)
            self.apply_outcome(task_run.id, outcome)
            woke.append(handler.execution_resumes_as)
        if left or not woke:
            return False
        self.emit(SetExecutionState(State.RESTARTED if State.RESTARTED in woke else State.RUNNING))
        return True

    def apply_outcome(self, task_run_id: str, outcome: Outcome) -> None:
        self.set_state(
            task_run_id,
            outcome.state,
            outputs=outcome.outputs,
            engine_state=outcome.engine_state,
        )

    def request_pause_ends(self) -> None:
        """A wake-up at the earliest date a paused task run goes on by itself."""
        if self.draft.current is not State.PAUSED:
            return
        for task_run in self.draft.open_runs():
            at = resume_date(task_run) if task_run.current is State.PAUSED else None
            if at is not None:
                self.pause_ends.append(at)
        if self.pause_ends:
            self.emit(WakeUp(min(self.pause_ends), "end of a pause"))

    def record_late_results(self) -> None:
        """A terminated execution still records what its running task runs report (the
        siblings of correction 3, killed tasks): no retry, nothing new is created."""
        self.finish_attempts(allow_retry=False)
        self.resolve_flowables()

    def rerun_restarted(self) -> None:
        """Task runs a restart reset to RESTARTED run again: a runnable one is sent to a
        worker for a new attempt, a flowable one resumes with the outputs it had. One that
        never started (its `runIf` or its start failed) is created anew: its `runIf` is
        evaluated and a flowable starts again."""
        for task_run in self.draft.open_runs():
            if task_run.current is not State.RESTARTED:
                continue
            task = self.flow.find(task_run.task_id)
            started = task_run.state.count(State.RUNNING) > 0
            if task is not None and task.flowable and started:
                self.set_state(task_run.id, State.RUNNING)
            else:
                self.set_state(task_run.id, State.CREATED)
                self.fresh[task_run.id] = not started

    # --- attempts ------------------------------------------------------------------
    def runnable_runs(self, state: State) -> list[tuple[TaskRun, TaskSpec]]:
        result = []
        for task_run in self.draft.open_runs():
            if task_run.current is state:
                task = self.flow.find(task_run.task_id)
                if task is not None and not task.flowable:
                    result.append((task_run, task))
        return result

    def enforce_timeouts(self) -> None:
        for task_run, task in self.runnable_runs(State.RUNNING):
            if task.executable:
                continue  # it waits for other executions, each with its own limits
            timeout, attempt = task.timeout_duration, task_run.last_attempt
            if timeout is None or attempt is None or attempt.state.current is not State.RUNNING:
                continue
            deadline = attempt.state.start_date + timeout
            if self.now < deadline:
                self.deadlines.append(deadline)
                continue
            self.emit(FinishAttempt(task_run.id, State.FAILED, {}))
            self.log("ERROR", timeout_message(timeout), task_run.id)
            self.emit(KillTaskRun(task_run.id))

    def finish_attempts(self, *, allow_retry: bool, paused: bool = False) -> bool:
        """Turn ended attempts into task run states; True when the execution was RETRIED.
        In a `paused` execution, a failure that a retry policy covers is left for the
        resume, which retries it as usual."""
        for task_run, task in self.runnable_runs(State.RUNNING):
            attempt = task_run.last_attempt
            if attempt is None or not attempt.state.current.terminated:
                continue
            failed = attempt.state.current is State.FAILED
            if paused and failed and self.flow.effective_retry(task.id) is not None:
                continue
            if self.finish(task_run, task, attempt.state.current, allow_retry):
                return True
        return False

    def finish(self, task_run: TaskRun, task: TaskSpec, state: State, allow_retry: bool) -> bool:
        policy = self.flow.effective_retry(task.id)
        if task.type == FOR_EACH_ITEM_EXECUTABLE:
            policy = None  # Kestra retries runnable tasks and Subflows only
        if state is State.FAILED and allow_retry and policy is not None:
            at = next_retry(policy, task_run, self.draft.execution_view(), self.now)
            if at is not None:
                self.set_state(task_run.id, State.FAILED)
                if policy.behavior == CREATE_NEW_EXECUTION:
                    self.emit(RetryExecution(task_run.id, at))
                    return True
                self.emit(ScheduleRetry(task_run.id, at))
                return False
        if state is State.SUCCESS and policy and policy.warning_on_retry:
            state = State.WARNING if len(task_run.attempts) >= 2 else state
        if state is State.FAILED and task.allow_failure:
            state = State.WARNING
        if state is State.WARNING and task.allow_warning:
            state = State.SUCCESS
        self.set_state(task_run.id, state)
        return False

    def resume_due_retries(self) -> None:
        for task_run in self.draft.open_runs():
            if task_run.current is State.RETRYING and (task_run.wake_at or self.now) <= self.now:
                self.set_state(task_run.id, State.CREATED)
                self.fresh[task_run.id] = False
                if self.draft.current is State.RETRYING:
                    self.emit(SetExecutionState(State.RUNNING))

    # --- kill ----------------------------------------------------------------------
    def kill(self) -> None:
        for task_run in self.draft.open_runs():
            task = self.flow.find(task_run.task_id)
            if task_run.current.created or task_run.current in (State.RETRYING, State.PAUSED):
                self.set_state(task_run.id, State.KILLED)
            elif task_run.current is State.RUNNING and task is not None and task.flowable:
                self.set_state(task_run.id, State.KILLING)
            elif task_run.current is State.RUNNING:
                self.emit(KillTaskRun(task_run.id))
        self.resolve_flowables()
        self.emit(SetExecutionState(State.KILLED))
        self.log("INFO", f"Flow completed with state KILLED in {self.duration()}")

    # --- advancing -----------------------------------------------------------------
    def advance(self) -> None:
        for _ in range(_MAX_ROUNDS):
            changed = self.resolve_flowables()
            if self.paused and self.draft.current is State.RUNNING:
                self.emit(SetExecutionState(State.PAUSED))
                return
            if self.detect_end():
                return
            changed = self.create_nexts() or changed
            changed = self.dispatch() or changed
            if not changed:
                return

    def resolve_flowables(self) -> bool:
        """End the flowables whose children say so, deepest first."""
        changed = False
        for task_run in reversed(self.draft.open_runs()):
            if task_run.current not in (State.RUNNING, State.KILLING):
                continue
            task = self.flow.find(task_run.task_id)
            handler = handler_for(task.type) if task is not None and task.flowable else None
            if task is None or handler is None:
                continue
            children = self.draft.children_of(task_run.id)
            if task_run.current is State.KILLING:
                if all(child.current.terminated for child in children):
                    self.set_state(task_run.id, State.KILLED)
                    changed = True
                continue
            if any(child.current is State.RETRYING for child in children):
                continue  # a retrying child must not let its parent conclude
            try:
                state = handler.state_of(self.context(task, task_run))
            except (RenderError, FlowableError) as error:
                self.log("ERROR", str(error), task_run.id)
                state = State.FAILED
            if isinstance(state, Outcome):
                self.apply_outcome(task_run.id, state)
                self.paused = self.paused or state.state is State.PAUSED
                changed = True
            elif state is not None:
                self.set_state(task_run.id, state)
                changed = True
        return changed

    def top_level(self) -> tuple[list[Child], list[Child], ChildRuns]:
        """The flow's own lists and their task runs (kept while nothing changes)."""
        if self._top is None or self._top[0] != self.draft.version:
            main, errors = enabled(plain(self.flow.tasks)), enabled(plain(self.flow.errors))
            self._top = (self.draft.version, main, errors, ChildRuns(self.draft.children_of(None)))
        return self._top[1], self._top[2], self._top[3]

    def detect_end(self) -> bool:
        if self.draft.current is State.RETRYING:
            return False
        main, errors, runs = self.top_level()
        current = errors if in_errors_branch(main, errors, runs) else main
        if not all(runs.done(child) for child in reversed(current)):
            return False
        states = [run.current for child in main if (run := runs.get(child)) is not None]
        state = final_state(states)
        if self.draft.current is State.CREATED:
            self.emit(SetExecutionState(State.RUNNING))
        outputs = None
        if self.flow.outputs:
            try:
                outputs = self.flow_outputs()
            except RenderError as error:
                self.log("ERROR", f"Failed to render output values: {error}")
                state = State.FAILED
            too_large = check_outputs(outputs, "Flow outputs") if outputs else None
            if too_large is not None:
                self.log("ERROR", too_large)
                outputs, state = None, State.FAILED
        self.emit(EndExecution(state, outputs))
        self.log("INFO", f"Flow completed with state {state} in {self.duration()}")
        return True

    def flow_outputs(self) -> dict[str, Any]:
        variables = output_variables(
            self.flow, self.draft.freeze(), self.environment, unseal=self.unseal
        )
        templates = self.made(self.renderer(variables, self.services))
        return {
            str(output.get("id")): typed_output(
                output.get("type"), templates.render_value(output.get("value"))
            )
            for output in self.flow.outputs
        }

    def duration(self) -> str:
        seconds = (self.now - self.draft.state.start_date).total_seconds()
        return f"{seconds:.3f}s"

    def create_nexts(self) -> bool:
        created: list[TaskRun] = []
        main, errors, runs = self.top_level()
        current = errors if in_errors_branch(main, errors, runs) else main
        created.extend(self.new_run(child, None) for child in sequential_nexts(current, runs))
        for task_run in self.draft.open_runs():
            if task_run.current is not State.RUNNING:
                continue
            task = self.flow.find(task_run.task_id)
            handler = handler_for(task.type) if task is not None and task.flowable else None
            if task is None or handler is None:
                continue
            children = handler.children_to_create(self.context(task, task_run))
            created.extend(self.new_run(child, task_run) for child in children)
        if not created:
            return False
        if self.draft.current is State.CREATED:
            self.emit(SetExecutionState(State.RUNNING))
            self.log("INFO", "Flow started")
        self.emit(CreateTaskRuns(tuple(created)))
        for task_run in created:
            self.fresh[task_run.id] = True
        return True

    def new_run(self, child: Child, parent: TaskRun | None) -> TaskRun:
        return TaskRun(
            id=self.ids(),
            task_id=child.task.id,
            state=StateHistory.start(self.now),
            parent_task_run_id=parent.id if parent is not None else None,
            value=child.value,
            iteration=child.iteration,
        )

    def dispatch(self) -> bool:
        fresh, self.fresh = self.fresh, {}
        for task_run_id, new in fresh.items():
            task_run = self.draft.run(task_run_id)
            task = self.flow.find(task_run.task_id)
            if task_run.current is not State.CREATED or task is None:
                continue
            if new and task.run_if is not None and not self.run_if_passes(task, task_run):
                continue
            if task.flowable:
                self.start_flowable(task, task_run)
            elif task.executable:
                self.start_executable(task, task_run)
            else:
                self.emit(RunTaskRun(task_run.id))
        return bool(fresh)

    def run_if_passes(self, task: TaskSpec, task_run: TaskRun) -> bool:
        try:
            rendered = self.templates(task, task_run).render(str(task.run_if))
        except RenderError as error:
            self.log(
                "ERROR",
                f"Unable to evaluate the runIf condition for task {task.id}: {error}",
                task_run.id,
            )
            self.set_state(task_run.id, State.FAILED)
            return False
        if not truthy(rendered):
            self.set_state(task_run.id, State.SKIPPED)
            return False
        return True

    def start_flowable(self, task: TaskSpec, task_run: TaskRun) -> None:
        handler = handler_for(task.type)
        if handler is None:
            self.log("ERROR", f"Task type '{task.type}' cannot run in this engine yet", task_run.id)
            self.set_state(task_run.id, State.FAILED)
            return
        try:
            started = handler.start(self.context(task, task_run))
        except (RenderError, FlowableError) as error:
            self.log("ERROR", str(error), task_run.id)
            self.set_state(task_run.id, State.FAILED)
            return
        self.set_state(
            task_run.id,
            State.RUNNING,
            outputs=started.outputs if started.outputs is not None else {},
            engine_state=started.engine_state,
        )

    def start_executable(self, task: TaskSpec, task_run: TaskRun) -> None:
        """A Subflow or a ForEachItem's batches: a running attempt, and one `StartSubflow`
        per child for the platform (which answers with `subflow_started`). What
        cannot be rendered fails the attempt; the next pass ends the task run."""
        self.emit(StartAttempt(task_run.id))
        started = self.draft.run(task_run.id)
        try:
            if task.type == FOR_EACH_ITEM_EXECUTABLE:
                requests = self.batch_requests(task, started)
            else:
                templates = self.templates(task, started)
                view = self.draft.execution_view()
                requests = [subflow_request(task, started, self.flow, view, templates)]
        except (RenderError, SubflowError) as error:
            self.log("ERROR", str(error), task_run.id)
            self.emit(FinishAttempt(task_run.id, State.FAILED, {}))
            return
        for request in requests:
            self.emit(request)

    def batch_requests(self, task: TaskSpec, task_run: TaskRun) -> list[StartSubflow]:
        """ForEachItem: one request per batch file its `_split` task wrote, with
        `taskrun.items` (the batch's URI) and `taskrun.iteration` (1-based) to render the
        inputs with. The counts start at once; no batch at all ends the attempt SUCCESS."""
        batches = self.batch_files(task, task_run)
        wait = flag(task.properties.get("wait"), True)
        transmit = flag(task.properties.get("transmitFailed"), True)
        engine_state = {BATCHES: len(batches), WAIT: wait, TRANSMIT_FAILED: transmit, SUBFLOWS: {}}
        view = self.draft.execution_view()
        requests = [
            subflow_request(
                task,
                task_run,
                self.flow,
                view,
                self.templates(task, task_run, {"items": uri, "iteration": number}),
                iteration=number,
            )
            for number, uri in enumerate(batches, start=1)
        ]
        counts = {"CREATED": len(batches), "RUNNING": 0} if wait else {"RUNNING": 0}
        outputs = {"numberOfBatches": len(batches), "iterations": counts}
        self.set_state(task_run.id, State.RUNNING, outputs=outputs, engine_state=engine_state)
        if not batches:
            self.emit(FinishAttempt(task_run.id, State.SUCCESS, outputs))
        return requests

    def batch_files(self, task: TaskSpec, task_run: TaskRun) -> list[str]:
        split_id = task.id.removesuffix("_items") + "_split"
        split = next(
            (
                run
                for run in self.draft.children_of(task_run.parent_task_run_id)
                if run.task_id == split_id and self.flow.task(split_id).type == FOR_EACH_ITEM_SPLIT
            ),
            None,
        )
        uri = (split.outputs or {}).get("splits") if split is not None else None
        if not uri:
            raise SubflowError(f"No batches to start: task {split_id} gave no 'splits' output")
        read = getattr(self.services, "read", None)
        if read is None:
            raise SubflowError("The internal storage is not available in this run")
        try:
            return batch_uris(read(str(uri)))
        except (RuntimeError, OSError, ValueError, LookupError) as error:
            raise SubflowError(f"Unable to read the batches from {uri}: {error}") from error


def typed_output(output_type: Any, value: Any) -> Any:
    """A rendered flow output converted to its declared type (the common cases)."""
    kind = str(output_type or "").upper()
    converters: dict[str, Callable[[Any], Any]] = {
        "STRING": lambda v: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")),
        "INT": int,
        "FLOAT": float,
        "BOOLEAN": lambda v: v if isinstance(v, bool) else str(v).lower() == "true",
        "JSON": lambda v: json.loads(v) if isinstance(v, str) else v,
        "ARRAY": lambda v: json.loads(v) if isinstance(v, str) else list(v),
    }
    converter = converters.get(kind)
    if value is None or converter is None:
        return value
    try:
        return converter(value)
    except (TypeError, ValueError) as error:
        raise RenderError(f"Unable to convert the output to {kind}: {error}") from error
