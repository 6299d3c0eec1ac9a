"""Python `Script` tasks on interpreters started ahead of time (warm_python): a script sees
what `python script.py` would show it (arguments, directory, environment, `__main__`, its
folder on `sys.path`, an empty stdin), ends the same way (exit codes, tracebacks from the
script's own frames, timeouts that kill its processes), and the spare interpreter is
replaced for the next task."""

from __future__ import annotations

import json
import os
import time

import pytest

from executions.engine.states import State
from executions.engine.tasks import warm_python
from tests.executions.engine.tasks.support import messages, run_task

PYTHON_SCRIPT = "io.kestra.plugin.scripts.python.Script"

INTROSPECT = """\
import json, os, sys
print("::" + json.dumps({"outputs": {
    "name": __name__,
    "argv0": os.path.basename(sys.argv[0]),
    "cwd": os.getcwd() == os.environ["WORKING_DIR"],
    "path0": sys.path[0] == os.path.dirname(os.path.abspath(sys.argv[0])),
    "mine": os.environ.get("MINE"),
    "leaked": os.environ.get("WORKER_ONLY"),
    "stdin": sys.stdin.read(),
    "pid": os.getpid(),
    "sid": os.getsid(0) if os.getsid(0) == os.getpgid(0) else None,
}}) + "::")
"""


@pytest.fixture(params=[True, False], ids=["warm", "cold"])
def warm(request, monkeypatch):
    monkeypatch.setattr(warm_python, "ENABLED", request.param)
    return request.param


def test_a_script_sees_what_python_script_py_would_show_it(warm, monkeypatch):
    monkeypatch.setenv("WORKER_ONLY", "not for scripts")
    outcome = run_task(PYTHON_SCRIPT, script=INTROSPECT, env={"MINE": "yes"})
    assert outcome.action.state is State.SUCCESS, messages(outcome)
    seen = outcome.action.outputs["vars"]
    assert seen["name"] == "__main__"
    assert seen["argv0"].endswith(".py")
    assert (seen["cwd"], seen["path0"]) == (True, True)
    assert seen["sid"] not in (None, os.getsid(0))  # a session of its own, killed as a whole
    assert (seen["mine"], seen["leaked"], seen["stdin"]) == ("yes", None, "")


def test_an_exit_code_and_a_traceback_are_the_scripts_own(warm):
    outcome = run_task(PYTHON_SCRIPT, script="import sys\nprint('bye')\nsys.exit(3)\n")
    assert outcome.action.state is State.FAILED
    assert outcome.action.outputs["exitCode"] == 3

    outcome = run_task(PYTHON_SCRIPT, script="def boom():\n    raise ValueError('no')\nboom()\n")
    assert outcome.action.outputs["exitCode"] == 1
    warned = [message for level, message in messages(outcome) if level == "WARN"]
    assert warned[0] == "Traceback (most recent call last):"
    assert warned[-1] == "ValueError: no"
    assert not any("runpy" in line or "<string>" in line for line in warned)


def test_a_timeout_kills_a_script_on_a_warm_interpreter(warm):
    started = time.monotonic()
    outcome = run_task(PYTHON_SCRIPT, script="import time\ntime.sleep(30)\n", timeout="PT0.5S")
    assert time.monotonic() - started < 3
    assert outcome.action.state is State.FAILED


def test_each_task_gets_its_own_process_and_a_new_spare_waits(monkeypatch):
    monkeypatch.setattr(warm_python, "ENABLED", True)
    pids = [
        run_task(PYTHON_SCRIPT, script=INTROSPECT).action.outputs["vars"]["pid"] for _ in range(3)
    ]
    assert len(set(pids)) == 3
    spares = list(warm_python.spares._spares.values())
    assert spares
    assert all(spare.poll() is None for spare in spares)


def test_startup_settings_are_part_of_the_spares_key(monkeypatch, tmp_path):
    """PYTHONPATH is read at start-up: a task that sets it gets an interpreter started with
    it, not a spare started without."""
    monkeypatch.setattr(warm_python, "ENABLED", True)
    (tmp_path / "helper_mod.py").write_text("VALUE = 'from PYTHONPATH'\n")
    run_task(PYTHON_SCRIPT, script="print('warm up')\n")
    outcome = run_task(
        PYTHON_SCRIPT,
        script="import helper_mod\nprint(helper_mod.VALUE)\n",
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert outcome.action.state is State.SUCCESS, messages(outcome)
    assert ("INFO", "from PYTHONPATH") in messages(outcome)
    assert warm_python.startup_key("py", {"PYTHONPATH": "x", "PATH": "/a"}) == (
        "py",
        (("PYTHONPATH", "x"),),
    )


def test_commands_and_before_commands_still_run_in_a_shell(monkeypatch):
    monkeypatch.setattr(warm_python, "ENABLED", True)
    outcome = run_task(
        PYTHON_SCRIPT,
        beforeCommands=["export FROM_SHELL=1"],
        script="import os, json\nprint(os.environ.get('FROM_SHELL'))\n",
    )
    assert ("INFO", "1") in messages(outcome)
    assert json.dumps(outcome.action.outputs["exitCode"]) == "0"
