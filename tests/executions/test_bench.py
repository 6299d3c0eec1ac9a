"""`manage.py bench all --quick` runs every benchmark with tiny parameters and prints one
valid JSON object per benchmark. Figures are not judged here: a missed target is
`"met": false`, never a failed test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Its own database and Redis database: the test workers use Redis 8-15 and test_app_gw*.
DATABASE_URL = "postgres://app:app@127.0.0.1:5432/aviary_bench_test"
BROKER_URL = "redis://127.0.0.1:6379/7"
KEYS = {"benchmark", "machine", "commit", "started_at", "parameters", "results", "targets", "met"}


def test_bench_quick_prints_one_json_object_per_benchmark(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "AVIARY_STORAGE_ROOT": str(tmp_path / "storage"),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "all", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    reports = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["benchmark"] for r in reports] == [
        "latency",
        "throughput",
        "overhead",
        "foreach",
        "schedule",
        "api",
        "triggers",
    ]
    for report in reports:
        assert set(report) >= KEYS, report
        assert isinstance(report["met"], bool)
        assert report["parameters"]["quick"] is True
        assert report["machine"]["cpus"] >= 1
        assert report["machine"]["postgres"].startswith("15")
        assert "failed" not in report, report
    results = {r["benchmark"]: r["results"] for r in reports}
    latency, throughput, overhead, foreach, api = (
        results[name] for name in ("latency", "throughput", "overhead", "foreach", "api")
    )
    assert latency["p50_ms"] > 0
    assert latency["p99_ms"] >= latency["p50_ms"]
    assert throughput["executions_submitted"] >= 4
    assert overhead["log_ms_per_task"] > 0
    assert foreach["limit_0_task_runs"] == foreach["limit_4_task_runs"] == 41
    assert foreach["limit_4_last_first_ratio"] > 0
    assert foreach["limit_0_execution_row_bytes"] > 0
    assert foreach["kill_state"] == "KILLED"
    assert foreach["kill_task_runs_left_unfinished"] == 0
    assert api["queries_per_request"] <= 3
    assert api["requests"] > 0
    assert api["errors"] == 0
    assert not any("Seq Scan on executions_execution" in line for line in api["explain"])
    schedule = results["schedule"]
    assert schedule["executions_per_tick"] == [20, 20]  # every trigger, every tick, once
    assert 0 < schedule["stored_p50_ms"] <= schedule["stored_p99_ms"]
    assert schedule["running_p50_ms"] > 0
