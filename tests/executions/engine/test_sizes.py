"""Size limits for every task type and for the flow: outputs over 1 MiB fail clearly, a log
line over 64 KiB is cut and says how long it was; nothing crashes."""

import pytest

from executions.engine.sizes import (
    MAX_LOG_LINE,
    MAX_OUTPUTS,
    check_outputs,
    human_size,
    json_size,
    truncate_line,
)
from executions.engine.states import State
from executions.engine.tasks.base import RunnableTask, TaskContext, TaskResult
from executions.engine.tasks.registry import TaskRegistry
from tests.executions.engine.helpers import run
from tests.executions.engine.tasks.support import attempt, body, messages, run_task

RETURN = "io.kestra.plugin.core.debug.Return"
LOG = "io.kestra.plugin.core.log.Log"
OUTPUT_VALUES = "io.kestra.plugin.core.output.OutputValues"
FAIL = "io.kestra.plugin.core.execution.Fail"
ADVICE = "write large data to a file (outputFiles / storage) and output its URI"


def test_sizes_read_as_people_write_them():
    assert human_size(512) == "512 bytes"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(int(1.4 * 1024 * 1024)) == "1.4 MiB"
    assert json_size({"k": "é"}) == len('{"k":"é"}'.encode())
    assert check_outputs({"k": "v" * 100}) is None
    assert check_outputs({"k": "v" * (MAX_OUTPUTS - 8)}) is None  # {"k":"…"} is 8 bytes
    exact = check_outputs({"k": "v" * (MAX_OUTPUTS - 7)})
    assert exact == f"Task outputs are 1,048,577 bytes, over the 1 MiB limit; {ADVICE}"


def test_a_long_line_keeps_64_kib_and_says_how_long_it_was():
    assert truncate_line("short") == "short"
    assert truncate_line("x" * MAX_LOG_LINE) == "x" * MAX_LOG_LINE
    cut = truncate_line("x" * 1_234_567)
    assert cut == "x" * MAX_LOG_LINE + "… [truncated: 1,234,567 bytes in all]"
    # a character of several bytes is never split
    wide = truncate_line("é" * MAX_LOG_LINE)
    assert wide == "é" * (MAX_LOG_LINE // 2) + f"… [truncated: {2 * MAX_LOG_LINE:,} bytes in all]"
    assert truncate_line("abc", dropped=MAX_LOG_LINE) == "abc… [truncated: 65,539 bytes in all]"
    assert truncate_line("\ud800" * MAX_LOG_LINE).endswith("bytes in all]")  # no crash


def test_a_return_task_with_outputs_over_one_mebibyte_fails_clearly():
    outcome = run_task(RETURN, format="r" * (1536 * 1024))
    assert outcome.action.state is State.FAILED
    assert outcome.action.outputs == {}
    assert messages(outcome)[-1] == (
        "ERROR",
        f"Task outputs are 1.5 MiB, over the 1 MiB limit; {ADVICE}",
    )


def test_output_values_over_one_mebibyte_fail_and_under_it_pass():
    half = "v" * (MAX_OUTPUTS // 2)
    too_much = run_task(OUTPUT_VALUES, values={"a": half, "b": half})
    assert too_much.action.state is State.FAILED
    assert too_much.action.outputs == {}
    assert messages(too_much)[-1][1].startswith("Task outputs are 1,048,6")
    assert messages(too_much)[-1][1].endswith(f"over the 1 MiB limit; {ADVICE}")
    fits = run_task(OUTPUT_VALUES, values={"a": half})
    assert fits.action.state is State.SUCCESS
    assert fits.action.outputs == {"values": {"a": half}}


def test_any_task_type_is_held_to_the_limit():
    class Hoarder(RunnableTask):
        type = RETURN

        def run(self, ctx: TaskContext) -> TaskResult:
            return TaskResult(state=State.WARNING, outputs={"rows": [["cell"] * 10] * 30_000})

    outcome = attempt(body(RETURN, format="x"), registry=TaskRegistry([Hoarder]))
    assert outcome.action.state is State.FAILED
    assert "over the 1 MiB limit" in messages(outcome)[-1][1]


def test_a_log_task_with_a_huge_message_logs_it_cut():
    outcome = run_task(LOG, message=["m" * 300_000, "small"])
    assert outcome.action.state is State.SUCCESS
    assert messages(outcome) == [
        ("INFO", "m" * MAX_LOG_LINE + "… [truncated: 300,000 bytes in all]"),
        ("INFO", "small"),
    ]


def test_a_huge_error_message_is_cut_too():
    outcome = run_task(FAIL, errorMessage="e" * 100_000)
    assert outcome.action.state is State.FAILED
    level, message = messages(outcome)[-1]
    assert level == "ERROR"
    assert message == "e" * MAX_LOG_LINE + "… [truncated: 100,000 bytes in all]"


def test_flow_outputs_over_one_mebibyte_fail_the_execution():
    half = "h" * (700 * 1024)
    result = run(
        f"""
        tasks:
          - id: a
            type: {RETURN}
            format: {half}
          - id: b
            type: {RETURN}
            format: {half}
        outputs:
          - id: first
            type: STRING
            value: "{{{{ outputs.a.value }}}}"
          - id: second
            type: STRING
            value: "{{{{ outputs.b.value }}}}"
        """
    )
    assert result.execution.current is State.FAILED
    assert result.execution.outputs is None
    assert {r.task_id: r.current for r in result.execution.task_runs} == {
        "a": State.SUCCESS,
        "b": State.SUCCESS,
    }
    errors = [line.message for line in result.logs if line.level == "ERROR"]
    assert errors == [f"Flow outputs are 1.4 MiB, over the 1 MiB limit; {ADVICE}"]


@pytest.mark.parametrize("size", [100, MAX_OUTPUTS // 2])
def test_flow_outputs_under_the_limit_are_kept(size):
    result = run(
        f"""
        tasks:
          - id: a
            type: {RETURN}
            format: {"z" * size}
        outputs:
          - id: out
            type: STRING
            value: "{{{{ outputs.a.value }}}}"
        """
    )
    assert result.execution.current is State.SUCCESS
    assert result.execution.outputs == {"out": "z" * size}
