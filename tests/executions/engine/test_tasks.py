"""Runnable core tasks through the worker harness (one attempt each)."""

from datetime import timedelta

import pytest

from executions.engine.model import Label
from executions.engine.states import State
from executions.engine.tasks import IMPLEMENTATIONS, tasks
from executions.engine.tasks.base import RunnableTask, TaskContext, TaskResult
from executions.engine.tasks.registry import TaskRegistry
from executions.engine.worker import run_attempt
from tests.executions.engine.fakes import FakeTemplates, fake_renderer
from tests.executions.engine.helpers import Stepper


def attempt(body: str, inputs=None, **options):
    """Run the flow's first task once; returns (outcome, stepper)."""
    stepper = Stepper(body, inputs=inputs)
    stepper.decide()
    task_run = stepper.execution.task_runs[-1]
    stepper.start(task_run.task_id)
    options.setdefault("renderer", fake_renderer)
    options.setdefault("clock", stepper.clock)
    options.setdefault("sleeper", stepper.clock.sleep)
    outcome = run_attempt(stepper.spec, stepper.execution, task_run.id, **options)
    return outcome, stepper


def _messages(outcome):
    return [(line.level, line.message) for line in outcome.logs]


def test_it_registers_every_core_task_under_its_canonical_name():
    assert tasks.names() == sorted(impl.type for impl in IMPLEMENTATIONS)
    assert tasks.get("io.kestra.core.tasks.log.Log") is tasks.get("io.kestra.plugin.core.log.Log")
    assert tasks.get("io.kestra.plugin.core.unknown.Thing") is None


def test_it_refuses_to_register_an_alias_or_a_type_twice():
    class Legacy(RunnableTask):
        type = "io.kestra.core.tasks.log.Log"

    with pytest.raises(ValueError, match="alias"):
        TaskRegistry([Legacy])
    with pytest.raises(ValueError, match="twice"):
        TaskRegistry([IMPLEMENTATIONS[0], IMPLEMENTATIONS[0]])


def test_it_adds_a_task_with_one_class_and_one_registration():
    class Shout(RunnableTask):
        type = "io.kestra.plugin.core.debug.Return"

        def run(self, ctx: TaskContext) -> TaskResult:
            return TaskResult(outputs={"value": ctx.rendered("format").upper()})

    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: hi\n",
        registry=TaskRegistry([Shout]),
    )
    assert outcome.action.outputs == {"value": "HI"}


def test_it_logs_a_rendered_message_at_its_level():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: hello {{ flow.id }}\n    level: WARN\n"
    )
    assert outcome.action.state is State.SUCCESS
    assert _messages(outcome) == [("WARN", "hello test")]
    assert outcome.logs[0].task_id == "t"


def test_it_logs_each_message_of_a_list():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
        "    message:\n      - one\n      - '{{ task.id }}'\n"
    )
    assert _messages(outcome) == [("INFO", "one"), ("INFO", "t")]


def test_it_returns_the_rendered_format_as_value():
    outcome, stepper = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
        "    format: '{{ task.id }} {{ taskrun.id }}'\n"
    )
    task_run_id = stepper.run_of("t").id
    assert outcome.action.outputs == {"value": f"t {task_run_id}"}
    assert _messages(outcome) == [("DEBUG", f"t {task_run_id}")]


def test_it_echoes_a_message_with_the_legacy_echo():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Echo\n    format: hi\n"
    )
    assert _messages(outcome) == [("INFO", "hi")]
    assert outcome.action.outputs == {}


def test_it_outputs_values_rendered_recursively():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.output.OutputValues\n"
        "    values:\n      plain: xyz\n      nested:\n        id: '{{ task.id }}'\n"
        "      listed: ['{{ flow.namespace }}']\n"
    )
    assert outcome.action.outputs == {
        "values": {"plain": "xyz", "nested": {"id": "t"}, "listed": ["company.team"]}
    }


def test_it_sleeps_on_the_clock():
    outcome, stepper = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT90S\n"
    )
    assert outcome.action.state is State.SUCCESS
    assert stepper.clock.now - stepper.execution.state.start_date == timedelta(seconds=90)
    assert _messages(outcome) == [("INFO", "Waiting for PT90S")]


def test_it_stops_a_sleep_when_the_task_is_killed():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1H\n",
        cancelled=lambda: True,
    )
    assert outcome.action.state is State.KILLED


def test_it_enforces_the_timeout_in_the_worker():
    outcome, stepper = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.flow.Sleep\n"
        "    duration: PT1H\n    timeout: PT2S\n"
    )
    assert outcome.action.state is State.FAILED
    assert ("ERROR", "Timeout after 0:00:02.000") in _messages(outcome)
    assert stepper.clock.now - stepper.execution.state.start_date == timedelta(seconds=2)


def test_it_fails_with_the_rendered_error_message():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.execution.Fail\n"
        "    errorMessage: 'bad {{ task.id }}'\n"
    )
    assert outcome.action.state is State.FAILED
    assert _messages(outcome) == [("ERROR", "bad t")]


def test_it_fails_with_the_default_message():
    outcome, _ = attempt("tasks:\n  - id: t\n    type: io.kestra.plugin.core.execution.Fail\n")
    assert _messages(outcome) == [("ERROR", "Task failure")]


@pytest.mark.parametrize(
    ("_case", "param", "state"), [("fail", "fail", State.FAILED), ("pass", "ok", State.SUCCESS)]
)
def test_it_fails_on_a_truthy_condition_only(_case, param, state):
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.execution.Fail\n"
        "    condition: '{{ inputs.param == \"fail\" }}'\n",
        inputs={"param": param},
    )
    assert outcome.action.state is state
    if state is State.FAILED:
        assert _messages(outcome) == [("ERROR", "Task failure"), ("ERROR", "Fail on a condition")]


@pytest.mark.parametrize(
    ("_case", "labels"),
    [
        ("json", "'{{ inputs.json }}'"),
        ("map", "\n      team: '{{ inputs.team }}'"),
        ("list", "\n      - key: team\n        value: '{{ inputs.team }}'"),
    ],
)
def test_it_returns_labels_from_json_a_map_or_a_list(_case, labels):
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.execution.Labels\n"
        f"    labels: {labels}\n",
        inputs={"json": {"team": "data"}, "team": "data"},
    )
    assert outcome.action.state is State.SUCCESS
    assert outcome.action.labels == (Label("team", "data"),)


def test_it_refuses_system_labels_in_the_labels_task():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.execution.Labels\n"
        "    labels:\n      system.correlationId: mine\n"
    )
    assert outcome.action.state is State.FAILED
    assert _messages(outcome) == [
        (
            "ERROR",
            "System labels can only be set by Kestra itself, offending label: "
            "system.correlationId=mine",
        )
    ]


def test_it_merges_task_labels_into_the_execution():
    stepper = Stepper(
        "labels:\n  team: old\n  keep: me\n"
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.execution.Labels\n"
        "    labels:\n      team: new\n"
    )
    stepper.decide()
    stepper.start("t")
    outcome = run_attempt(
        stepper.spec,
        stepper.execution,
        stepper.run_of("t").id,
        clock=stepper.clock,
        renderer=fake_renderer,
    )
    stepper.apply(outcome.action)
    assert stepper.execution.label_map() == {
        "team": "new",
        "keep": "me",
        "system.correlationId": "exec",
    }


def test_it_fails_an_attempt_when_a_template_cannot_render():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: '{{ nope }}'\n"
    )
    assert outcome.action.state is State.FAILED
    assert _messages(outcome) == [
        ("ERROR", "Unable to find `nope` used in the expression `{{ nope }}` at line 1")
    ]


def test_it_fails_a_task_type_without_implementation():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.http.Download\n    uri: http://x\n"
    )
    assert outcome.action.state is State.FAILED
    assert "cannot run in this engine yet" in _messages(outcome)[0][1]


def test_it_masks_secrets_seen_while_rendering():
    class SecretTemplates(FakeTemplates):
        def render(self, template: str) -> str:
            self.secrets_seen.add("hunter2")
            return "password is hunter2"

    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: x\n",
        renderer=lambda variables, services: SecretTemplates(variables, services),
    )
    assert _messages(outcome) == [("INFO", "password is ********")]


def test_it_counts_previous_attempts_in_taskrun_attempts_count():
    outcome, _ = attempt(
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
        "    format: '{{ taskrun.attemptsCount }}'\n"
    )
    assert outcome.action.outputs == {"value": "0"}
    assert outcome.attempt_number == 1
