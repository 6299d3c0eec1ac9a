"""Runs the named benchmarks on the benchmark database: migrate it, start a Celery worker when
an engine benchmark needs one, print one JSON object per benchmark on stdout (progress on
stderr), stop what was started.

Exit status: 0 when every run was valid (a missed target is `"met": false`, not an error);
1 when a run was invalid: a sequential scan of the executions table in the search plan, an
execution that did not succeed, a server that did not start.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable
from typing import TextIO

from bench.environment import (
    BenchError,
    celery_worker,
    exclusive_run,
    git_commit,
    machine,
    purge_queues,
)
from bench.report import Report

ENGINE_BENCHMARKS = ("latency", "throughput", "overhead", "foreach", "schedule")
BENCHMARKS = (*ENGINE_BENCHMARKS, "api", "triggers")


def _benchmark(name: str) -> Callable[..., Report]:
    from bench import api, engine, foreach, schedule, triggers

    return {
        "latency": engine.latency,
        "throughput": engine.throughput,
        "overhead": engine.overhead,
        "foreach": foreach.foreach,
        "schedule": schedule.schedule,
        "api": api.api,
        "triggers": triggers.triggers,
    }[name]


def run(names: list[str], *, quick: bool, out: TextIO, log: TextIO) -> int:
    from django.core.management import call_command

    url = os.environ["DATABASE_URL"]
    exit_code = 0
    with exclusive_run(url):
        call_command("migrate", interactive=False, verbosity=0)
        about, commit = machine(), git_commit()
        worker = None
        try:
            if any(name in ENGINE_BENCHMARKS for name in names):
                purged = purge_queues()
                if purged:
                    log.write(f"[bench] purged {purged} message(s) left by an earlier run\n")
                worker = celery_worker(log)
            for name in names:
                log.write(f"[bench] {name}{' (quick)' if quick else ''}...\n")
                try:
                    processes = {"celery": worker.process.pid} if worker is not None else {}
                    report = _benchmark(name)(quick=quick, log=log, processes=processes)
                except (BenchError, TimeoutError) as error:
                    report = Report(name, parameters={"quick": quick}, targets={})
                    report.fail(f"{type(error).__name__}: {error}")
                    log.write(traceback.format_exc())
                    if worker is not None:
                        log.write(f"[bench] Celery worker log:\n{worker.tail()}\n")
                report.parameters["quick"] = quick
                body = report.as_json(machine=about, commit=commit)
                out.write(json.dumps(body) + "\n")
                out.flush()
                if report.failures:
                    exit_code = 1
                    log.write(f"[bench] {name} FAILED: {'; '.join(report.failures)}\n")
        finally:
            if worker is not None:
                worker.stop()
    return exit_code
