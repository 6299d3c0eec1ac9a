"""Run one command as a local process, in its own process group, streaming its output.

Both pipes are read by threads, line by line (so a chatty process never blocks on a full
pipe), and every line is handed to the caller in the caller's thread, in arrival order. A
line is read up to `READ_LIMIT` bytes; the rest of an endless line is counted and dropped.
When the attempt is killed or runs out of time (checked while waiting), or when the line
handler raises, the whole process group gets SIGTERM, then SIGKILL after `TERM_GRACE`
seconds. Processes left behind by a command that has ended are stopped the same way.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from executions.engine.sizes import MAX_OUTPUTS
from executions.engine.tasks.base import TaskFailed
from executions.engine.tasks.limits import Budget

READ_LIMIT = MAX_OUTPUTS + 1024  # an outputs line `::{"outputs": ...}::` may hold 1 MiB
TERM_GRACE = 1.0
POLL = 0.05
CANCEL_CHECK = 0.5  # seconds between two `ctx.cancelled()` calls
DRAIN_WAIT = 2.0


@dataclass(frozen=True)
class Line:
    """One line without its end of line; `dropped` bytes past `READ_LIMIT` were skipped."""

    data: bytes
    stderr: bool
    dropped: int = 0

    @property
    def size(self) -> int:
        return len(self.data) + self.dropped


class _End:
    pass


def _read_lines(stream: IO[bytes], stderr: bool, out: queue.Queue[Line | _End]) -> None:
    try:
        while chunk := stream.readline(READ_LIMIT):
            dropped = 0
            if not chunk.endswith(b"\n"):
                while more := stream.readline(READ_LIMIT):  # the rest of an endless line
                    if more.endswith(b"\n"):
                        dropped += len(more) - 1
                        break
                    dropped += len(more)
            out.put(Line(chunk.rstrip(b"\n").rstrip(b"\r"), stderr, dropped))
    except (OSError, ValueError) as error:
        out.put(Line(f"Unable to read the output: {error}".encode(), True))
    finally:
        out.put(_End())


def _signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to the group; False when no process is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies waiting for init do not count)."""
    if not _signal_group(pgid, 0):
        return False
    try:
        entries = [entry.name for entry in os.scandir("/proc") if entry.name.isdigit()]
    except OSError:
        return True  # no /proc: trust the signal
    for pid in entries:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def terminate_group(process: subprocess.Popen[bytes], grace: float = TERM_GRACE) -> None:
    """SIGTERM to the process group, SIGKILL to what is left after `grace` seconds."""
    pgid = process.pid
    if _signal_group(pgid, signal.SIGTERM):
        end = time.monotonic() + grace
        while time.monotonic() < end:
            process.poll()  # reap the leader, or it lingers in the group as a zombie
            if not _group_alive(pgid):
                break
            time.sleep(0.02)
        _signal_group(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):  # uninterruptible sleep
        process.wait(timeout=5)


class ProcessRun:
    """One process: `run()` returns its exit code once it ended and its output was read."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        budget: Budget,
        on_line: Callable[[Line], None],
        starter: Callable[[], subprocess.Popen[bytes]] | None = None,
    ) -> None:
        self.args = list(args)
        self.starter = starter  # starts the process its own way (a warm interpreter)
        self.cwd = cwd
        self.env = dict(env)
        self.budget = budget
        self.on_line = on_line
        self.lines: queue.Queue[Line | _End] = queue.Queue()
        self.open_streams = 0
        self.pid: int | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        try:
            process = self.starter() if self.starter is not None else self._popen()
        except OSError as error:
            raise TaskFailed(
                f"Unable to start '{self.args[0]}': {error.strerror or error}"
            ) from None
        self.pid = process.pid
        for stream, stderr in ((process.stdout, False), (process.stderr, True)):
            assert stream is not None
            thread = threading.Thread(
                target=_read_lines, args=(stream, stderr, self.lines), daemon=True
            )
            thread.start()
            self.open_streams += 1
        return process

    def _popen(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, killed as a whole
        )

    def _handle(self, timeout: float) -> None:
        """Hand over the next line, if one comes within `timeout` seconds."""
        try:
            item = self.lines.get(timeout=timeout)
        except queue.Empty:
            return
        if isinstance(item, _End):
            self.open_streams -= 1
        else:
            self.on_line(item)

    def _drain(self) -> None:
        """The lines still in the pipes, once the process group is gone."""
        end = time.monotonic() + DRAIN_WAIT
        while self.open_streams and time.monotonic() < end:
            self._handle(POLL)
        while True:
            try:
                item = self.lines.get_nowait()
            except queue.Empty:
                return
            if not isinstance(item, _End):
                self.on_line(item)

    def _wait(self, process: subprocess.Popen[bytes]) -> None:
        next_cancel_check = 0.0
        exited_at: float | None = None
        while self.open_streams or process.poll() is None:
            if self.open_streams:
                self._handle(POLL)
            else:  # output ended: wait for the exit itself, not for a line that cannot come
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=POLL)
            now = time.monotonic()
            if process.poll() is not None:
                exited_at = exited_at if exited_at is not None else now
                if self.open_streams and now - exited_at > TERM_GRACE:
                    terminate_group(process)  # children still hold the pipes
                    return
                continue
            if self.budget.expired():
                terminate_group(process)
                self._drain()
                raise self.budget.timed_out()
            if now >= next_cancel_check:
                next_cancel_check = now + CANCEL_CHECK
                if self.budget.ctx.cancelled():
                    terminate_group(process)
                    self._drain()
                    raise self.budget.killed()

    def run(self) -> int:
        process = self._start()
        try:
            self._wait(process)
            _signal_group(process.pid, signal.SIGKILL)  # nothing may outlive the attempt
            self._drain()
            code = process.wait()
            return 128 - code if code < 0 else code  # killed by a signal: as a shell says
        except BaseException:
            if process.poll() is None or _signal_group(process.pid, 0):
                terminate_group(process)
            raise
        finally:
            if not self.open_streams:  # a reader still blocked keeps its pipe
                for stream in (process.stdout, process.stderr):
                    if stream is not None:
                        stream.close()
