"""Script tasks of plugin-scripts 0.20 on the process task runner: `shell.Commands`,
`shell.Script`, `python.Commands` and `python.Script`.

Each attempt gets a fresh temporary working directory (deleted afterwards) holding the
`inputFiles`, with `{{ workingDir }}` and `{{ outputDir }}` (and the `WORKING_DIR` and
`OUTPUT_DIR` environment variables) pointing into it. The rendered `beforeCommands` and
commands, preceded by `set -e` unless `failFast: false`, are joined by new lines and passed
to the `interpreter` (`/bin/sh -c`). stdout lines are logged at INFO, stderr lines at WARN;
a line `::{"outputs": {...}}::` adds to the output `vars`, `::{"logs": [{"level",
"message"}]}::` logs, `::{"metrics": [...]}::` is logged at DEBUG. Outputs: `exitCode`,
`vars`, `outputFiles` (name -> `kestra://` URI). A non-zero exit fails the attempt (the
outputs are kept); with `warningOnStdErr` (default true) any stderr line makes it WARNING.
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from executions.engine.sizes import MAX_OUTPUTS, json_size, outputs_too_large
from executions.engine.states import State
from executions.engine.tasks import warm_python
from executions.engine.tasks.base import (
    LEVELS,
    RunnableTask,
    TaskContext,
    TaskFailed,
    TaskLogger,
    TaskResult,
)
from executions.engine.tasks.limits import Budget
from executions.engine.tasks.process import Line, ProcessRun
from executions.engine.tasks.script_files import (
    LocalCopies,
    extra_variables,
    input_files,
    upload_output_files,
    write_input_files,
)

PROCESS_RUNNER = "io.kestra.plugin.core.runner.Process"
DEFAULT_INTERPRETER = ("/bin/sh", "-c")
PROTOCOL = re.compile(r"::(\{.*\})::")
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME")


class OutputsTooLarge(TaskFailed):
    pass


class LogConsumer:
    """Logs each line and reads Kestra's `::{...}::` protocol (outputs, logs, metrics)."""

    def __init__(self, logger: TaskLogger) -> None:
        self.logger = logger
        self.stdout_count = 0
        self.stderr_count = 0
        self.outputs: dict[str, Any] = {}
        self._sizes: dict[str, int] = {}

    def __call__(self, line: Line) -> None:
        if line.stderr:
            self.stderr_count += 1
        else:
            self.stdout_count += 1
        text = line.data.decode("utf-8", errors="replace")
        command = PROTOCOL.fullmatch(text)
        if command is not None and not line.dropped:
            self._command(command.group(1))
        elif command is not None or (line.dropped and text.startswith("::{")):
            raise OutputsTooLarge(outputs_too_large(line.size))  # stop reading it at once
        else:
            # the logger cuts a long line to the size of a log line (`sizes.MAX_LOG_LINE`)
            self.logger.log("WARN" if line.stderr else "INFO", text, dropped=line.dropped)

    def _command(self, payload: str) -> None:
        try:
            command = json.loads(payload)
            if not isinstance(command, dict):
                raise ValueError("expected a JSON object")
            outputs = command.get("outputs")
            if outputs is not None and not isinstance(outputs, dict):
                raise ValueError("`outputs` must be an object")
            logs = command.get("logs")
            if logs is not None and not isinstance(logs, list):
                raise ValueError("`logs` must be a list")
        except ValueError as error:
            self.logger.warn(f"Invalid outputs '{error}'")
            return
        for name, value in (outputs or {}).items():
            self._sizes[name] = json_size({name: value})
            self.outputs[name] = value
        if (size := sum(self._sizes.values())) > MAX_OUTPUTS:
            raise OutputsTooLarge(outputs_too_large(size))  # the worker checks them all again
        for entry in logs or []:
            level = str(entry.get("level", "")).upper() if isinstance(entry, dict) else ""
            level = "WARN" if level == "WARNING" else level
            if level not in LEVELS:
                self.logger.warn(f"Invalid log '{payload}'")
                continue
            self.logger.log(level, entry.get("message"))
        if command.get("metrics"):
            self.logger.debug(f"Metrics: {json.dumps(command['metrics'])}")


def check_runner(ctx: TaskContext) -> None:
    """Only the process runner exists here: refuse a container runner clearly."""
    legacy = ctx.prop("runner")
    task_runner = ctx.prop("taskRunner")
    if legacy is not None:
        kind = "DOCKER" if str(legacy).upper() != "PROCESS" else None
    elif task_runner is not None:
        name = task_runner.get("type") if isinstance(task_runner, Mapping) else None
        kind = None if name == PROCESS_RUNNER else str(name)
    else:
        kind = "docker" if ctx.prop("docker") is not None else None
    if kind is not None:
        raise TaskFailed(
            f"The task runner '{kind}' is not available: scripts run only with the process "
            f"task runner ({PROCESS_RUNNER})"
        )
    files = ctx.prop("namespaceFiles")
    if isinstance(files, Mapping) and files.get("enabled") is not False:
        raise TaskFailed("namespaceFiles are not supported by this engine yet")
    image = ctx.rendered("containerImage")
    ctx.logger.debug(f"Using task runner '{PROCESS_RUNNER}'")
    if image:
        ctx.logger.info(f"containerImage '{image}' is ignored: the script runs as a process")


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def python_command(path: str) -> str:
    """Kestra runs `python`: here the first of python3, python on `path` (else this one)."""
    for name in ("python3", "python"):
        found = shutil.which(name, path=path)
        if found:
            return found
    return sys.executable


_REAL: dict[tuple[str, str], str] = {}


def real_interpreter(found: str, env: Mapping[str, str]) -> str:
    """The binary behind `found`, asked once per process: a version manager's shim (pyenv,
    asdf) is a script that chooses an interpreter on every start; `sys.executable` of that
    interpreter is the binary itself (a virtualenv's keeps its own path, so its packages)."""
    key = (found, env.get("PYENV_VERSION", ""))
    if key not in _REAL:
        real = found
        try:
            probe = subprocess.run(
                [found, "-c", "import sys; print(sys.executable)"],
                env=dict(env),
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            printed = probe.stdout.strip()
            if probe.returncode == 0 and printed and os.access(printed, os.X_OK):
                real = printed
        except (OSError, subprocess.SubprocessError):
            pass  # keep what the PATH gave: the script will report its own error
        _REAL[key] = real
    return _REAL[key]


class ExecScript(RunnableTask):
    """What every script task shares; subclasses give the lines to run."""

    python = False

    def direct_argv(self, lines: list[str]) -> list[str] | None:
        """When `lines` are exactly one interpreter command that may start without a
        shell: its argv (the interpreter first). None: the shell runs the lines."""
        return None

    def lines(
        self, ctx: TaskContext, workdir: Path, copies: LocalCopies, env: Mapping[str, str]
    ) -> list[str]:
        raise NotImplementedError

    def run(self, ctx: TaskContext) -> TaskResult:
        check_runner(ctx)
        root = Path(tempfile.mkdtemp(prefix="aviary-script-"))
        try:
            return self._run(ctx, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _environment(
        self, ctx: TaskContext, root: Path, extra: Mapping[str, str]
    ) -> dict[str, str]:
        env = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
        env.setdefault("PATH", os.defpath)
        if self.python:
            env["PYTHONUNBUFFERED"] = "1"
        rendered = ctx.rendered("env") or {}
        if not isinstance(rendered, Mapping):
            raise TaskFailed("Invalid env: expected a map of names to values")
        env.update({str(name): _env_text(value) for name, value in rendered.items()})
        env.update(extra)
        if self.python:
            # Commands say `python ...` as in Kestra's images. Both names lead straight to the
            # interpreter the PATH would start: no launcher script in between (a pyenv shim
            # costs ~60 ms per start), and `python` exists when only `python3` does.
            interpreter = real_interpreter(python_command(env["PATH"]), env)
            (root / "bin").mkdir(exist_ok=True)
            for name in ("python", "python3"):
                (root / "bin" / name).symlink_to(interpreter)
            env["PATH"] = f"{root / 'bin'}{os.pathsep}{env['PATH']}"
        return env

    def _run(self, ctx: TaskContext, root: Path) -> TaskResult:
        workdir = (root / "work").resolve()
        workdir.mkdir()
        output_dir: Path | None = None
        extra = {"workingDir": str(workdir)}
        if ctx.prop("outputDirectory") is not False:
            output_dir = workdir / secrets.token_hex(11)
            output_dir.mkdir()
            extra["outputDir"] = str(output_dir)
        copies = LocalCopies(ctx, workdir)
        with extra_variables(ctx, extra):
            write_input_files(ctx, workdir, input_files(ctx))
            env_extra = {"WORKING_DIR": str(workdir)}
            if output_dir is not None:
                env_extra["OUTPUT_DIR"] = str(output_dir)
            env = self._environment(ctx, root, env_extra)
            before = [copies.replace(ctx.render(str(c))) for c in ctx.prop("beforeCommands", [])]
            lines = self.lines(ctx, workdir, copies, env)
            patterns = [str(ctx.render(str(p))) for p in ctx.prop("outputFiles", [])]
        fail_fast = ctx.prop("failFast", True) is not False
        script = "\n".join((["set -e"] if fail_fast else []) + before + lines)
        interpreter = [str(part) for part in ctx.prop("interpreter", DEFAULT_INTERPRETER)]
        consumer = LogConsumer(ctx.logger)
        direct = self.direct_argv(lines) if not before else None
        starter = None
        default_interpreter = "interpreter" not in ctx.task.properties
        if direct is not None and default_interpreter and warm_python.usable():
            # the one command is `python <script>`: run it on an interpreter started ahead
            python, argv = direct[0], direct[1:]
            starter = functools.partial(warm_python.start, python, argv, cwd=workdir, env=env)
        run = ProcessRun(
            [*interpreter, script],
            cwd=workdir,
            env=env,
            budget=Budget(ctx),
            on_line=consumer,
            starter=starter,
        )
        exit_code = run.run()
        outputs = {
            "exitCode": exit_code,
            "vars": consumer.outputs,
            "outputFiles": upload_output_files(ctx, workdir, patterns, output_dir),
        }
        if exit_code != 0:
            ctx.logger.error(f"Command failed with exit code {exit_code}")
            return TaskResult(state=State.FAILED, outputs=outputs)
        ctx.logger.debug(f"Command succeed with exit code {exit_code}")
        warning = ctx.prop("warningOnStdErr", True) is not False and consumer.stderr_count > 0
        return TaskResult(state=State.WARNING if warning else State.SUCCESS, outputs=outputs)


def _commands(ctx: TaskContext, copies: LocalCopies) -> list[str]:
    commands = ctx.prop("commands")
    if isinstance(commands, str):
        commands = [commands]
    if not isinstance(commands, list) or not commands:
        raise TaskFailed("commands must be a non-empty list of commands")
    return [copies.replace(ctx.render(str(command))) for command in commands]


def _script_file(ctx: TaskContext, workdir: Path, copies: LocalCopies, suffix: str) -> Path:
    script = ctx.prop("script")
    if script is None or str(script) == "":
        raise TaskFailed("script must not be empty")
    path = workdir / f"{secrets.token_hex(8)}{suffix}"
    path.write_text(copies.replace(ctx.render(str(script))), encoding="utf-8")
    return path


class ShellCommands(ExecScript):
    type = "io.kestra.plugin.scripts.shell.Commands"

    def lines(
        self, ctx: TaskContext, workdir: Path, copies: LocalCopies, env: Mapping[str, str]
    ) -> list[str]:
        return _commands(ctx, copies)


class ShellScript(ExecScript):
    type = "io.kestra.plugin.scripts.shell.Script"

    def lines(
        self, ctx: TaskContext, workdir: Path, copies: LocalCopies, env: Mapping[str, str]
    ) -> list[str]:
        path = _script_file(ctx, workdir, copies, ".sh")
        path.chmod(0o755)  # run by its path: a shebang line chooses the shell
        return [shlex.quote(str(path))]


class PythonCommands(ExecScript):
    type = "io.kestra.plugin.scripts.python.Commands"
    python = True

    def lines(
        self, ctx: TaskContext, workdir: Path, copies: LocalCopies, env: Mapping[str, str]
    ) -> list[str]:
        return _commands(ctx, copies)


class PythonScript(ExecScript):
    type = "io.kestra.plugin.scripts.python.Script"
    python = True

    def lines(
        self, ctx: TaskContext, workdir: Path, copies: LocalCopies, env: Mapping[str, str]
    ) -> list[str]:
        path = _script_file(ctx, workdir, copies, ".py")
        return [shlex.join([python_command(env["PATH"]), str(path)])]

    def direct_argv(self, lines: list[str]) -> list[str] | None:
        if len(lines) != 1:
            return None
        python, *argv = shlex.split(lines[0])
        return [os.path.realpath(python), *argv]
