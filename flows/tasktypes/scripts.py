"""Script tasks from Kestra's plugin-scripts 0.20 (shell and Python, `Script` and `Commands`).

They share `AbstractExecScript`'s properties; each runs in a task runner (a local process or
a container image)."""

from __future__ import annotations

from flows.tasktypes.common import (
    NAMESPACE_FILES,
    Schema,
    boolean,
    enum,
    mapping,
    string,
    string_list,
)
from flows.tasktypes.registry import task

TASK_RUNNERS = (
    "io.kestra.plugin.core.runner.Process",
    "io.kestra.plugin.scripts.runner.docker.Docker",
)

_EXEC_SCRIPT: dict[str, Schema] = {
    "taskRunner": {
        "type": "object",
        "properties": {"type": enum(TASK_RUNNERS, "Where the commands run.")},
        "required": ["type"],
        "description": "Task runner: a local process or a Docker container.",
    },
    "containerImage": string("Container image used by a container task runner."),
    "beforeCommands": string_list("Commands run before the main ones, e.g. installs."),
    "env": mapping("Environment variables.", {"type": ["string", "number", "boolean"]}),
    "inputFiles": {
        "type": ["object", "string"],
        "description": "Files to create in the working directory: name -> content.",
    },
    "outputFiles": string_list("Glob patterns of files to keep as outputs."),
    "namespaceFiles": NAMESPACE_FILES,
    "warningOnStdErr": boolean("End in WARNING when something was written to stderr."),
    "interpreter": string_list("Interpreter and its arguments (default /bin/sh -c).", min_items=1),
    "failFast": boolean("Stop at the first failing command (default true)."),
    "targetOS": enum(("LINUX", "WINDOWS", "AUTO"), "Operating system of the commands."),
    "docker": {"type": "object", "description": "(Deprecated) Docker options; use taskRunner."},
    "runner": enum(("PROCESS", "DOCKER"), "(Deprecated) use taskRunner."),
    "outputDirectory": boolean("(Deprecated) outputFiles replaces it."),
}
_COMMANDS = {**_EXEC_SCRIPT, "commands": string_list("Commands to run, rendered.", min_items=1)}
_SCRIPT = {**_EXEC_SCRIPT, "script": string("The script, rendered.", minLength=1)}

TYPES = [
    task(
        "io.kestra.plugin.scripts.shell.Commands",
        "Run shell commands.",
        _COMMANDS,
        required=("commands",),
        # Kestra 0.20 still ships the pre-0.10 Bash task as its own deprecated class; its
        # usual form (`commands: [...]`) is exactly a shell.Commands, so it is read as one.
        aliases=("io.kestra.core.tasks.scripts.Bash",),
    ),
    task(
        "io.kestra.plugin.scripts.shell.Script",
        "Run a shell script.",
        _SCRIPT,
        required=("script",),
    ),
    task(
        "io.kestra.plugin.scripts.python.Commands",
        "Run commands in a Python environment (e.g. python main.py).",
        _COMMANDS,
        required=("commands",),
    ),
    task(
        "io.kestra.plugin.scripts.python.Script",
        "Run an inline Python script.",
        _SCRIPT,
        required=("script",),
    ),
]
