"""Where the benchmarks run: a dedicated PostgreSQL database and Redis database, the machine
they ran on, and the processes they start (a Celery worker, gunicorn).

Nothing here imports Django at module level: `manage.py bench` decides first whether it must
re-execute itself with the benchmark database in its environment.
"""

from __future__ import annotations

import os
import platform
import resource
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://app:app@127.0.0.1:5432/aviary_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/9"
LOCK_KEY = 0x41564942  # pg_advisory_lock key: one benchmark run per database at a time


class BenchError(RuntimeError):
    """The benchmark could not run or its run is invalid (not a missed target)."""


def wanted_environment() -> dict[str, str]:
    """This process's environment plus the benchmark defaults it lacks."""
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("CELERY_BROKER_URL", DEFAULT_BROKER_URL)
    return env


def must_reexec() -> bool:
    """Django read its settings before the command ran: without the variables set, they name
    the development database, so the command runs itself again with them."""
    return "DATABASE_URL" not in os.environ or "CELERY_BROKER_URL" not in os.environ


def check_servers(env: dict[str, str]) -> None:
    if urlsplit(env["DATABASE_URL"]).scheme not in {"postgres", "postgresql", "pgsql"}:
        raise BenchError(f"benchmarks need PostgreSQL; DATABASE_URL is {env['DATABASE_URL']}")
    if urlsplit(env["CELERY_BROKER_URL"]).scheme not in {"redis", "rediss"}:
        raise BenchError(f"benchmarks need Redis; CELERY_BROKER_URL is {env['CELERY_BROKER_URL']}")


def _connect_kwargs(url: str, dbname: str | None = None) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username,
        "password": parts.password,
        "dbname": dbname or parts.path.lstrip("/"),
    }


def ensure_database(url: str) -> bool:
    """Create the benchmark database when missing (the role needs CREATEDB). True if created."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(**_connect_kwargs(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


@contextmanager
def exclusive_run(url: str) -> Iterator[None]:
    """Two runs on one database would share data and queues: the second waits."""
    import psycopg

    with psycopg.connect(**_connect_kwargs(url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    changes = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(changes) if changes is not None else None}


def _proc_value(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def machine() -> dict[str, Any]:
    import celery
    import django
    import redis
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        synchronous_commit = cursor.fetchone()[0]
    try:
        redis_version = redis.Redis.from_url(settings.CELERY_BROKER_URL).info()["redis_version"]
    except redis.RedisError:
        redis_version = None
    memory = _proc_value("/proc/meminfo", "MemTotal")
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _proc_value("/proc/cpuinfo", "model name"),
        "ram_gb": round(int(memory.split()[0]) / 1024 / 1024, 1) if memory else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "celery": celery.__version__,
        "postgres": postgres,
        "postgres_synchronous_commit": synchronous_commit,
        "redis": redis_version,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """A child process whose output goes to a temporary log; stopped by its own pid."""

    def __init__(self, name: str, command: list[str], ready: str | None, log: TextIO) -> None:
        self.name = name
        self.log_path = Path(tempfile.mkstemp(prefix=f"aviary-bench-{name}-", suffix=".log")[1])
        self._log_file = self.log_path.open("w")
        log.write(f"[bench] starting {name}: {' '.join(command)} (log {self.log_path})\n")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        if ready is not None:
            self.wait_for(ready)

    def tail(self, size: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-size:]

    def wait_for(self, marker: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"{self.name} not ready after {timeout} s:\n{self.tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()


def celery_worker(log: TextIO) -> Service:
    """The worker `manage.py up` starts (executor and worker queues, 2 processes, INFO logs),
    without the start-up synchronisation with other workers (mingle)."""
    from config.processes import celery_worker_command

    command = celery_worker_command(f"bench-{os.getpid()}@%h", 2, "--without-mingle")
    return Service("celery", command, ready=" ready.", log=log)


def purge_queues() -> int:
    """Messages a previous (interrupted) run left behind would be counted in this one."""
    from config.celery import app

    purged = 0
    with app.connection_for_write() as conn:
        for queue in ("executor", "worker"):
            purged += conn.default_channel.queue_purge(queue) or 0
    return purged


def gunicorn(port: int, log: TextIO) -> Service:
    """The web server as `manage.py up` starts it (config/processes.py)."""
    from config.processes import gunicorn_command

    command = gunicorn_command(f"127.0.0.1:{port}")
    return Service("gunicorn", command, ready="Booting worker", log=log)


class CpuMeter:
    """CPU seconds (user + system) spent from now on by process groups: the named process
    trees, every PostgreSQL backend, and this process (the load generator), read from /proc.
    On a 2-core machine this says where the time went."""

    def __init__(self, **trees: int) -> None:
        self.trees = trees
        self.started = time.perf_counter()
        self.before = {name: _cpu_by_pid(pids) for name, pids in self._groups().items()}
        self.own_before = _own_cpu()

    def _groups(self) -> dict[str, list[int]]:
        groups = {name: _tree(pid) for name, pid in self.trees.items()}
        groups["postgres"] = _postgres_pids()
        return groups

    def spent(self) -> dict[str, float]:
        spent = {}
        for name, pids in self._groups().items():
            after = _cpu_by_pid(pids)  # processes started meanwhile count from zero
            before = self.before.get(name, {})
            spent[name] = round(sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items()), 2)
        spent["bench"] = round(_own_cpu() - self.own_before, 2)
        spent["wall"] = round(time.perf_counter() - self.started, 2)
        return spent


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _tree(pid: int) -> list[int]:
    """A process and its descendants (gunicorn's or Celery's workers), from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:
                continue
    return found


def _postgres_pids() -> list[int]:
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() in {"postgres", "postmaster"}:
                pids.append(int(comm.parent.name))
        except OSError:
            continue
    return pids


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return found
