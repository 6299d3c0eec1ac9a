"""Script tasks on the process runner, with real subprocesses (/bin/sh and Python)."""

import shutil
import time
from pathlib import Path

import pytest

from executions.engine.local import MemoryStorage
from executions.engine.rendering import expressions_renderer
from executions.engine.states import State
from tests.executions.engine.helpers import run
from tests.executions.engine.tasks.support import messages, outputs_of, run_task

SHELL = "io.kestra.plugin.scripts.shell.Commands"
SHELL_SCRIPT = "io.kestra.plugin.scripts.shell.Script"
PYTHON = "io.kestra.plugin.scripts.python.Commands"
PYTHON_SCRIPT = "io.kestra.plugin.scripts.python.Script"
RUNNER_LINE = ("DEBUG", "Using task runner 'io.kestra.plugin.core.runner.Process'")
TASK_DIR = "kestra:///company/team/test/executions/exec/tasks/t/tr-1/"


def printed(outcome, level="INFO"):
    return [message for lvl, message in messages(outcome) if lvl == level]


def test_it_runs_commands_and_logs_stdout_at_info():
    outcome = run_task(SHELL, commands=["echo hello", "echo '{{ flow.id }}'"])
    assert outcome.action.state is State.SUCCESS
    assert outcome.action.outputs == {"exitCode": 0, "vars": {}, "outputFiles": {}}
    assert messages(outcome) == [
        RUNNER_LINE,
        ("INFO", "hello"),
        ("INFO", "test"),
        ("DEBUG", "Command succeed with exit code 0"),
    ]


def test_it_reads_outputs_logs_and_metrics_from_the_protocol_lines():
    outcome = run_task(
        SHELL,
        commands=[
            """echo '::{"outputs":{"a":1,"b":"x"}}::'""",
            """echo '::{"outputs":{"b":{"nested":true}}}::'""",
            'echo \'::{"logs":[{"level":"ERROR","message":"boom"},'
            '{"level":"warning","message":"hm"}]}::\'',
            """echo '::{"metrics":[{"name":"rows","type":"counter","value":3}]}::'""",
            "echo '::{not json}::'",
            'echo \'text ::{"outputs":{"c":1}}:: inside\'',
        ],
    )
    assert outcome.action.state is State.SUCCESS
    assert outcome.action.outputs["vars"] == {"a": 1, "b": {"nested": True}}
    logged = messages(outcome)
    assert ("ERROR", "boom") in logged
    assert ("WARN", "hm") in logged
    assert any(level == "DEBUG" and '"rows"' in text for level, text in logged)
    assert any(level == "WARN" and text.startswith("Invalid outputs '") for level, text in logged)
    assert ("INFO", 'text ::{"outputs":{"c":1}}:: inside') in logged
    assert not any('::{"outputs"' in text and level != "INFO" for level, text in logged)


def test_it_logs_stderr_at_warn_and_ends_in_warning_unless_told_not_to():
    outcome = run_task(SHELL, commands=["echo out", "echo oops >&2"])
    assert outcome.action.state is State.WARNING
    assert printed(outcome, "WARN") == ["oops"]
    quiet = run_task(SHELL, commands=["echo oops >&2"], warningOnStdErr=False)
    assert quiet.action.state is State.SUCCESS


def test_it_fails_on_a_non_zero_exit_and_keeps_the_outputs():
    outcome = run_task(SHELL, commands=["""echo '::{"outputs":{"seen":1}}::'""", "exit 3"])
    assert outcome.action.state is State.FAILED
    assert outcome.action.outputs == {"exitCode": 3, "vars": {"seen": 1}, "outputFiles": {}}
    assert messages(outcome)[-1] == ("ERROR", "Command failed with exit code 3")


def test_it_reports_a_process_killed_by_a_signal_as_a_shell_does():
    outcome = run_task(SHELL, interpreter=["/bin/sh", "-c"], commands=["kill -TERM $$"])
    assert outcome.action.outputs["exitCode"] == 143
    assert messages(outcome)[-1] == ("ERROR", "Command failed with exit code 143")


def test_it_stops_at_the_first_failing_command_unless_fail_fast_is_false():
    outcome = run_task(SHELL, beforeCommands=["echo before"], commands=["false", "echo after"])
    assert outcome.action.state is State.FAILED
    assert printed(outcome) == ["before"]
    lenient = run_task(SHELL, commands=["false", "echo after"], failFast=False)
    assert lenient.action.state is State.SUCCESS
    assert printed(lenient) == ["after"]


def test_it_passes_rendered_env_and_keeps_the_worker_environment_out(monkeypatch):
    monkeypatch.setenv("AVIARY_WORKER_SECRET", "do-not-leak")
    outcome = run_task(
        SHELL,
        env={"GREETING": "hi {{ flow.id }}", "ON": True},
        commands=[
            'echo "$GREETING $ON"',
            'echo "${AVIARY_WORKER_SECRET:-unset}"',
            'test "$WORKING_DIR" = "$(pwd)" && echo same-dir',
            'test -d "$OUTPUT_DIR" && echo has-output-dir',
        ],
    )
    assert printed(outcome) == ["hi test true", "unset", "same-dir", "has-output-dir"]


def test_it_writes_input_files_rendered_or_copied_from_the_storage():
    storage = MemoryStorage()
    uri = storage.put("company/team/data.csv", b"a,b\n")
    outcome = run_task(
        SHELL,
        inputFiles={"hello.txt": "flow {{ flow.id }}", "sub/data.csv": uri, "empty": None},
        commands=["cat hello.txt", "echo", "cat sub/data.csv", "test -e empty || echo no-empty"],
        storage=storage,
    )
    assert outcome.action.state is State.SUCCESS
    assert printed(outcome) == ["flow test", "a,b", "no-empty"]


def test_it_reads_input_files_given_as_a_json_string():
    outcome = run_task(SHELL, inputFiles='{"a.txt": "{{ task.id }}"}', commands=["cat a.txt"])
    assert printed(outcome) == ["t"]


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/evil", "a/../../b"])
def test_it_refuses_input_files_outside_the_working_directory(name):
    outcome = run_task(SHELL, inputFiles={name: "x"}, commands=["true"])
    assert outcome.action.state is State.FAILED
    assert "relative path inside the current working directory" in messages(outcome)[-1][1]


def test_it_uploads_output_files_matching_globs():
    storage = MemoryStorage()
    outcome = run_task(
        SHELL,
        commands=["mkdir -p sub", "echo A > a.txt", "echo B > b.csv", "echo C > sub/c.txt"],
        outputFiles=["*.txt", "sub/*.{csv,txt}"],
        storage=storage,
    )
    files = outcome.action.outputs["outputFiles"]
    assert sorted(files) == ["a.txt", "sub/c.txt"]
    assert files["a.txt"].startswith(TASK_DIR)
    assert files["a.txt"].endswith("-a.txt")
    assert storage.get(files["a.txt"]) == b"A\n"
    assert storage.get(files["sub/c.txt"]) == b"C\n"
    everything = run_task(
        SHELL,
        commands=["mkdir -p d/e", "touch x.txt d/e/y.txt"],
        outputFiles=["**.txt"],
        storage=storage,
    )
    assert sorted(everything.action.outputs["outputFiles"]) == ["d/e/y.txt", "x.txt"]


def test_it_uploads_every_file_of_the_output_dir():
    storage = MemoryStorage()
    outcome = run_task(
        SHELL,
        commands=["echo out > {{ outputDir }}/result.txt", "echo ignored > not-listed.txt"],
        storage=storage,
    )
    files = outcome.action.outputs["outputFiles"]
    assert files == {"result.txt": TASK_DIR + "result.txt"}
    assert storage.get(files["result.txt"]) == b"out\n"


def test_it_gives_a_fresh_working_directory_and_deletes_it_afterwards():
    first = run_task(SHELL, commands=["echo {{ workingDir }}", "ls -A | wc -l", "touch left"])
    second = run_task(SHELL, commands=["echo {{ workingDir }}", "ls -A | wc -l"])
    first_dir, first_count = printed(first)[:2]
    second_dir, second_count = printed(second)
    assert first_dir != second_dir
    assert first_count.strip() == second_count.strip() == "1"  # just the output dir
    assert not Path(first_dir).exists()
    assert not Path(second_dir).exists()


def test_it_renders_working_dir_with_the_real_expression_language():
    outcome = run_task(
        SHELL,
        commands=['test "{{ workingDir }}" = "$(pwd)" && echo ok'],
        renderer=expressions_renderer,
    )
    assert printed(outcome) == ["ok"]


def test_it_copies_kestra_uris_of_the_commands_into_the_working_directory():
    storage = MemoryStorage()
    uri = storage.put("company/team/in.txt", b"from storage\n")
    outcome = run_task(SHELL, commands=[f"cat {uri}", f"dirname {uri}"], storage=storage)
    assert outcome.action.state is State.SUCCESS
    content, folder = printed(outcome)
    assert content == "from storage"
    assert folder.endswith("/work")


def test_it_runs_a_shell_script_file():
    outcome = run_task(
        SHELL_SCRIPT,
        beforeCommands=["echo setup"],
        script='#!/bin/sh\necho "script of {{ flow.id }}"\nexit 4\n',
    )
    assert outcome.action.state is State.FAILED
    assert printed(outcome) == ["setup", "script of test"]
    assert outcome.action.outputs["exitCode"] == 4


def test_it_runs_a_python_script_with_outputs_and_stderr():
    outcome = run_task(
        PYTHON_SCRIPT,
        script=(
            "import json, sys\n"
            "print('flow {{ flow.id }}')\n"
            "print('::' + json.dumps({'outputs': {'answer': 42, 'list': [1, 2]}}) + '::')\n"
            "print('careful', file=sys.stderr)\n"
        ),
    )
    assert outcome.action.state is State.WARNING
    assert outcome.action.outputs["vars"] == {"answer": 42, "list": [1, 2]}
    assert printed(outcome) == ["flow test"]
    assert printed(outcome, "WARN") == ["careful"]


def test_it_runs_python_commands_with_python_available():
    outcome = run_task(
        PYTHON,
        inputFiles={"main.py": "import sys\nprint(sys.version_info[0])\n"},
        commands=["python main.py", "python3 main.py"],
    )
    assert outcome.action.state is State.SUCCESS
    assert printed(outcome) == ["3", "3"]


def test_its_outputs_feed_the_next_task():
    result = run(
        f"""
        tasks:
          - id: t
            type: {SHELL}
            commands:
              - echo '::{{"outputs":{{"greeting":"hello"}}}}::'
          - id: show
            type: io.kestra.plugin.core.debug.Return
            format: "{{{{ outputs.t.vars.greeting }}}} {{{{ outputs.t.exitCode }}}}"
        """
    )
    assert outputs_of(result, "show") == {"value": "hello 0"}


def test_it_runs_the_legacy_bash_task_as_shell_commands():
    outcome = run_task("io.kestra.core.tasks.scripts.Bash", commands=["echo legacy"])
    assert printed(outcome) == ["legacy"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_a_timeout_kills_the_whole_process_group_quickly(tmp_path):
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    outcome = run_task(
        SHELL,
        commands=[f"sleep 30 & echo $! > {pid_file}", "sleep 30"],
        timeout="PT1S",
    )
    assert time.monotonic() - started < 3
    assert outcome.action.state is State.FAILED
    assert messages(outcome)[-1] == ("ERROR", "Timeout after 0:00:01.000")
    assert not _alive(int(pid_file.read_text()))


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period():
    started = time.monotonic()
    outcome = run_task(SHELL, commands=["trap '' TERM", "sleep 30"], timeout="PT0.5S")
    assert time.monotonic() - started < 3
    assert outcome.action.state is State.FAILED


def test_a_kill_stops_the_process():
    started = time.monotonic()
    outcome = run_task(
        SHELL, commands=["sleep 30"], cancelled=lambda: time.monotonic() - started > 0.3
    )
    assert time.monotonic() - started < 3
    assert outcome.action.state is State.KILLED
    assert messages(outcome)[-1] == ("ERROR", "The task was killed")


def test_background_processes_do_not_outlive_the_attempt(tmp_path):
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    outcome = run_task(SHELL, commands=[f"sleep 30 & echo $! > {pid_file}", "echo done"])
    assert time.monotonic() - started < 3
    assert outcome.action.state is State.SUCCESS
    assert not _alive(int(pid_file.read_text()))


def test_it_truncates_a_huge_line_and_reads_long_outputs_without_blocking():
    outcome = run_task(
        PYTHON,
        commands=[
            "python3 -c \"print('x' * 200000)\"",
            "seq 1 20000",
            "seq 1 20000 >&2",
        ],
    )
    assert outcome.action.state is State.WARNING
    huge = printed(outcome)[0]
    assert huge == "x" * 65536 + "… [truncated: 200,000 bytes in all]"
    assert len(printed(outcome)) == 20001
    assert len(printed(outcome, "WARN")) == 20000


def test_it_fails_clearly_when_the_outputs_exceed_one_mebibyte():
    script = (
        "import json\n"
        "for i in range(3):\n"
        "    print('::' + json.dumps({'outputs': {f'k{i}': 'v' * 400000}}) + '::')\n"
    )
    outcome = run_task(PYTHON_SCRIPT, script=script)
    assert outcome.action.state is State.FAILED
    assert messages(outcome)[-1] == (
        "ERROR",
        "Task outputs are 1.1 MiB, over the 1 MiB limit; write large data to a file "
        "(outputFiles / storage) and output its URI",
    )
    single = run_task(
        PYTHON_SCRIPT, script="print('::{\"outputs\":{\"k\":\"' + 'v' * 2000000 + '\"}}::')"
    )
    assert single.action.state is State.FAILED
    assert "over the 1 MiB limit" in messages(single)[-1][1]


def test_repeated_outputs_of_one_key_count_once_towards_the_limit():
    script = (
        "import json\n"
        "for i in range(30):\n"
        "    print('::' + json.dumps({'outputs': {'progress': 'v' * 100000}}) + '::')\n"
    )
    assert run_task(PYTHON_SCRIPT, script=script).action.state is State.SUCCESS


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"taskRunner": {"type": "io.kestra.plugin.scripts.runner.docker.Docker"}}, "docker"),
        ({"runner": "DOCKER"}, "DOCKER"),
        ({"docker": {"image": "ubuntu"}}, "docker"),
    ],
)
def test_it_refuses_a_container_task_runner_clearly(properties, message):
    outcome = run_task(SHELL, commands=["echo never"], **properties)
    assert outcome.action.state is State.FAILED
    text = messages(outcome)[-1][1]
    assert message in text
    assert "only with the process task runner" in text
    assert "never" not in printed(outcome)


def test_it_runs_with_the_process_runner_and_ignores_a_container_image():
    outcome = run_task(
        SHELL,
        commands=["echo ran"],
        containerImage="ubuntu:22.04",
        taskRunner={"type": "io.kestra.plugin.core.runner.Process"},
    )
    assert outcome.action.state is State.SUCCESS
    assert ("INFO", "containerImage 'ubuntu:22.04' is ignored: the script runs as a process") in (
        messages(outcome)
    )
    assert run_task(SHELL, commands=["echo ran"], runner="PROCESS").action.state is State.SUCCESS


def test_it_refuses_namespace_files_for_now():
    outcome = run_task(SHELL, commands=["true"], namespaceFiles={"enabled": True})
    assert messages(outcome)[-1] == ("ERROR", "namespaceFiles are not supported by this engine yet")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_it_uses_the_given_interpreter():
    outcome = run_task(SHELL, interpreter=["bash", "-c"], commands=['echo "${BASH_VERSION:+bash}"'])
    assert printed(outcome) == ["bash"]


def test_it_fails_clearly_when_the_interpreter_cannot_start():
    outcome = run_task(SHELL, interpreter=["/no/such/shell", "-c"], commands=["true"])
    assert outcome.action.state is State.FAILED
    assert messages(outcome)[-1][1].startswith("Unable to start '/no/such/shell'")
