"""Python interpreters started ahead of time, one spare per interpreter and start-up
environment, so a Python `Script` task does not wait for an interpreter to start (tens of
milliseconds: the `site` module, `.pth` files, the standard library's imports).

A spare is an ordinary `python -u -c BOOTSTRAP` process in its own session, blocked on its
stdin. A task takes it and writes one line of JSON (script, arguments, working directory,
environment); the spare enters the directory, replaces its environment and runs the script
as `__main__`, exactly as `python script.py` would, then exits: each process runs one
script, so nothing leaks from one task to the next. A new spare is started as soon as one
is taken, while the task runs. Spares wait on their stdin, so they end on their own when
the worker process that started them goes away.

What is read only at start-up (`PYTHON*` variables, `HOME` for the user site directory,
the locale for the standard streams' encoding) is part of the spare's key: a task whose
environment differs there gets an interpreter started for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

ENABLED = True  # the platform may turn it off (settings); off, tasks start their own

STARTUP_NAMES = ("HOME", "LANG", "LC_ALL", "LC_CTYPE")

# Runs in the spare. Imports only what Python has imported at start-up anyway, plus runpy;
# the traceback of a failing script starts at the script, as `python script.py` prints it.
BOOTSTRAP = """\
import os, sys
line = sys.stdin.readline()
if not line:
    sys.exit(0)
import json
job = json.loads(line)
del json, line
os.chdir(job["cwd"])
os.environ.clear()
os.environ.update(job["env"])
sys.argv = list(job["argv"])
script = os.path.abspath(sys.argv[0])
sys.path[0] = os.path.dirname(script)
del job
import runpy
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit:
    raise
except BaseException as error:
    import traceback
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != script:
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb)
    sys.exit(1)
"""


StartupKey = tuple[str, tuple[tuple[str, str], ...]]


def startup_key(interpreter: str, env: Mapping[str, str]) -> StartupKey:
    names = sorted(n for n in env if n in STARTUP_NAMES or n.startswith("PYTHON"))
    return interpreter, tuple((name, env[name]) for name in names)


class _Spares:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spares: dict[StartupKey, subprocess.Popen[bytes]] = {}

    def take(self, interpreter: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        """A started interpreter for this key (a spare when one is ready), and a new spare."""
        key = startup_key(interpreter, env)
        with self._lock:
            spare = self._spares.pop(key, None)
        if spare is None or spare.poll() is not None:
            spare = _spawn(interpreter, env)
        replacement = _spawn(interpreter, env)
        with self._lock:
            previous = self._spares.pop(key, None)
            self._spares[key] = replacement
        if previous is not None:
            _dismiss(previous)
        return spare

    def clear(self) -> None:
        with self._lock:
            spares, self._spares = list(self._spares.values()), {}
        for spare in spares:
            _dismiss(spare)


def _spawn(interpreter: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [interpreter, "-u", "-c", BOOTSTRAP],
        cwd="/",
        env=dict(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, killed as a whole
    )


def _dismiss(spare: subprocess.Popen[bytes]) -> None:
    """An unused spare: closing its stdin makes it exit."""
    for stream in (spare.stdin, spare.stdout, spare.stderr):
        if stream is not None:
            stream.close()
    try:
        spare.wait(timeout=5)
    except subprocess.TimeoutExpired:
        spare.kill()


spares = _Spares()


def start(
    interpreter: str, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """`interpreter argv...` in `cwd` with `env`, on a spare: the process, already running."""
    process = spares.take(interpreter, env)
    job = {"argv": list(argv), "cwd": str(cwd), "env": dict(env)}
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps(job).encode() + b"\n")
        process.stdin.close()  # the script reads an empty stdin, as with /dev/null
    except OSError:
        process.kill()
        process.wait()
        raise
    return process


def usable() -> bool:
    """On, and on a system with sessions (`os.setsid`) to kill a script's processes by."""
    return ENABLED and hasattr(os, "setsid")
