"""API benchmark: `GET /api/v1/{tenant}/executions/search` of one tenant among many.

1,000,000 execution rows over 100 tenants are loaded once with COPY (a later run counts them
and loads only what is missing). The search is then measured in three ways: in-process, the
SQL queries of one request (CaptureQueriesContext); in PostgreSQL, `EXPLAIN (ANALYZE,
BUFFERS)` of the search statement and its variants (a sequential scan of the executions table
fails the run); over HTTP, 8 concurrent clients for 20 s against gunicorn as `manage.py up`
starts it, with a real Bearer token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import httpx
from django.db import connection, transaction

from bench.engine import bench_user
from bench.environment import BenchError, CpuMeter, free_port, gunicorn
from bench.report import Report, distribution_ms
from config.processes import describe
from executions import search
from executions.models import Execution
from tenants.models import Tenant

TENANT_PREFIX = "bench-"
QUERY = "size=25"  # Kestra's default sort: state.startDate:desc
SEQ_SCAN = f"Seq Scan on {Execution._meta.db_table}"
NAMESPACES = ("company", "company.team", "company.team.data", "company.ops", "acme.sales")
# 100 draws: the mix of a busy production tenant
STATES = ["SUCCESS"] * 80 + ["FAILED"] * 8 + ["WARNING"] * 4 + ["RUNNING"] * 4
STATES += ["KILLED"] * 2 + ["CREATED", "PAUSED"]
ENVIRONMENTS = ("prod", "prod", "staging", "dev")
TEAMS = ("data", "ml", "ops", "web", "finance")
SPAN_SECONDS = 90 * 86_400
COLUMNS = (
    "id",
    "tenant_id",
    "namespace",
    "flow_id",
    "flow_revision",
    "state",
    "histories",
    "start_date",
    "end_date",
    "inputs",
    "outputs",
    "labels",
    "variables",
    "trigger",
    "parent_id",
    "original_id",
    "attempt_number",
    "original_created_date",
    "schedule_date",
    "wake_at",
)


def api(*, quick: bool, log: TextIO, processes: dict[str, int]) -> Report:
    total_rows, tenants, seconds, warmup, concurrency = (
        (2_000, 100, 2.0, 0.5, 8) if quick else (1_000_000, 100, 20.0, 2.0, 8)
    )
    report = Report(
        "api",
        parameters={
            "rows": total_rows,
            "tenants": tenants,
            "request": f"GET /api/v1/{TENANT_PREFIX}000/executions/search?{QUERY}",
            "concurrency": concurrency,
            "seconds": seconds,
            "warmup_seconds": warmup,
            "server": describe(),
            "client": "httpx.AsyncClient (keep-alive), in the bench process",
        },
        targets={
            "requests_per_s": (">=", 300),
            "p99_ms": ("<=", 50),
            "queries_per_request": ("<=", 3),
        },
    )
    rows = _tenants(tenants)
    report.results["data"] = _ensure_rows(rows, total_rows // tenants, log)
    target = rows[0]
    from accounts.services import api_token_create, api_token_revoke, membership_add

    user = bench_user()
    membership_add(tenant=target, user=user)
    issued = api_token_create(user=user, name="bench api", expires_in_days=1)
    path = f"/api/v1/{target.slug}/executions/search?{QUERY}"
    try:
        queries, sample = _queries_in_process(path, issued.raw)
        report.results["queries_per_request"] = queries
        report.results["sample"] = sample
        plans = _explain(target)
        report.results["explain"] = plans.pop("default")
        report.results["explain_variants"] = plans
        for line in report.results["explain"]:
            log.write(f"[bench] explain: {line}\n")
        scans = [
            name
            for name, plan in {"default": report.results["explain"], **plans}.items()
            if any(SEQ_SCAN in line for line in plan)
        ]
        if scans:
            report.fail(f"{SEQ_SCAN} in the plan of: {', '.join(scans)}")
        report.results.update(_over_http(path, issued.raw, concurrency, seconds, warmup, log))
        if report.results["errors"]:
            report.fail(f"{report.results['errors']} request(s) did not answer 200")
    finally:
        api_token_revoke(user=user, token_id=issued.token.pk)
    return report


# --- data -------------------------------------------------------------------------------------


def _tenants(count: int) -> list[Tenant]:
    from tenants.selectors import tenant_find
    from tenants.services import tenant_create

    found = []
    for index in range(count):
        slug = f"{TENANT_PREFIX}{index:03d}"
        found.append(tenant_find(slug=slug) or tenant_create(slug=slug, name=slug))
    return found


def _ensure_rows(tenants: list[Tenant], per_tenant: int, log: TextIO) -> dict[str, Any]:
    """Keep what an earlier run loaded; reload the tenants that have fewer rows than asked."""
    table = Execution._meta.db_table
    ids = [tenant.pk for tenant in tenants]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tenant_id, count(*) FROM {table} WHERE tenant_id = ANY(%s) GROUP BY 1",  # noqa: S608
            [ids],
        )
        counts = dict(cursor.fetchall())
    short = [tenant for tenant in tenants if counts.get(tenant.pk, 0) < per_tenant]
    existing = sum(counts.values())
    if not short:
        log.write(f"[bench] api: {existing} rows already loaded\n")
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
        return {"rows_in_bench_tenants": existing, "loaded_now": 0, "load_seconds": 0}
    started = time.perf_counter()
    log.write(f"[bench] api: loading {per_tenant} rows into {len(short)} tenant(s) with COPY\n")
    extra = _extra_columns()
    for number, tenant in enumerate(short):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
            columns = ", ".join(f'"{name}"' for name in (*COLUMNS, *extra))
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in _rows(tenant, per_tenant, seed=tenant.pk):
                    copy.write_row((*row, *extra.values()))
        if number % 10 == 9:
            log.write(f"[bench] api: {number + 1}/{len(short)} tenants loaded\n")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {table}")  # statistics, and index-only scans
    seconds = round(time.perf_counter() - started, 1)
    log.write(f"[bench] api: loaded in {seconds} s\n")
    loaded = len(short) * per_tenant
    return {
        "rows_in_bench_tenants": existing + loaded - sum(counts.get(t.pk, 0) for t in short),
        "loaded_now": loaded,
        "load_seconds": seconds,
    }


def _extra_columns() -> dict[str, Any]:
    """Columns added to the table after this loader was written get their model default."""
    fields = {field.column: field for field in Execution._meta.concrete_fields}
    unknown = [name for name in COLUMNS if name not in fields]
    if unknown:
        raise BenchError(f"bench/api.py loads columns the table no longer has: {unknown}")
    extra = {}
    for column, field in fields.items():
        if column not in COLUMNS:
            default = field.get_default()
            extra[column] = json.dumps(default) if isinstance(default, dict | list) else default
    return extra


def _rows(tenant: Tenant, count: int, *, seed: int) -> Any:
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    now = datetime.now(UTC)
    for _ in range(count):
        execution_id = f"{tenant.pk:03d}{rng.getrandbits(76):019x}"
        start = now - timedelta(seconds=rng.random() * SPAN_SECONDS)
        state = STATES[rng.randrange(len(STATES))]
        running = start + timedelta(milliseconds=15)
        histories = f'[["CREATED", "{start.isoformat()}"], ["RUNNING", "{running.isoformat()}"]'
        end = None
        if state not in {"CREATED", "RUNNING", "PAUSED"}:
            end = running + timedelta(seconds=rng.random() * 600)
            histories += f', ["{state}", "{end.isoformat()}"]'
        labels = (
            f'[{{"key": "env", "value": "{ENVIRONMENTS[rng.randrange(4)]}"}}, '
            f'{{"key": "team", "value": "{TEAMS[rng.randrange(5)]}"}}, '
            f'{{"key": "system.correlationId", "value": "{execution_id}"}}]'
        )
        yield (
            execution_id,
            tenant.pk,
            NAMESPACES[rng.randrange(len(NAMESPACES))],
            f"flow-{rng.randrange(20):02d}",
            rng.randrange(1, 4),
            state,
            histories + "]",
            start,
            end,
            "{}",
            None,
            labels,
            "{}",
            None,
            "",
            "",
            1,
            None,
            None,
            None,
        )


# --- in process -------------------------------------------------------------------------------


def _queries_in_process(path: str, token: str) -> tuple[int, dict[str, Any]]:
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    client.get(path)  # the token's last_used_at is written at most once a minute
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise BenchError(f"GET {path} answered {response.status_code}: {response.content[:500]}")
    body = response.json()
    sample = {
        "results": len(body["results"]),
        "total": body["total"],
        "totalCapped": body["totalCapped"],
        "has_next": body["next"] is not None,
        "sql": [query["sql"][:300] for query in captured.captured_queries],
    }
    return len(captured), sample


def _explain(tenant: Tenant) -> dict[str, list[str]]:
    page = search.PageRequest(size=25)
    first = search.execution_search(tenant=tenant, spec=search.ExecutionFilter(), request=page)
    after = search.Cursor.decode(first.next) if first.next else None
    variants = {
        "default": (search.ExecutionFilter(), page),
        "keyset": (search.ExecutionFilter(), search.PageRequest(size=25, after=after)),
        "namespace": (search.ExecutionFilter(namespace="company.team"), page),
        "flow": (search.ExecutionFilter(namespace="company.team", flow_id="flow-03"), page),
        "state": (search.ExecutionFilter(states=("FAILED",)), page),
        "labels": (search.ExecutionFilter(labels=(("env", "prod"),)), page),
        "ascending": (search.ExecutionFilter(), search.PageRequest(size=25, descending=False)),
    }
    plans = {}
    for name, (spec, request) in variants.items():
        statement = search.execution_search_statement(tenant=tenant, spec=spec, request=request)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.params)
            plans[name] = [row[0] for row in cursor.fetchall()]
    return plans


# --- over HTTP --------------------------------------------------------------------------------


def _over_http(
    path: str, token: str, concurrency: int, seconds: float, warmup: float, log: TextIO
) -> dict[str, Any]:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    port = free_port()
    url = f"http://127.0.0.1:{port}{path}"
    headers = {"Authorization": f"Bearer {token}"}
    server = gunicorn(port, log)
    try:
        _wait_until_serving(url, headers, server)
        meter = CpuMeter(gunicorn=server.process.pid)
        latencies, statuses, window = asyncio.run(
            _hammer(url, headers, concurrency, seconds, warmup)
        )
        cpu = meter.spent()
    finally:
        server.stop()
    ok = statuses.get(200, 0)
    log.write(f"[bench] api: {ok / window:.0f} req/s at concurrency {concurrency}\n")
    return {
        "requests_per_s": round(len(latencies) / window, 1),
        **distribution_ms(latencies),
        "requests": len(latencies),
        "errors": sum(count for status, count in statuses.items() if status != 200),
        "statuses": {str(status): count for status, count in statuses.items()},
        "cpu_seconds_during_load": cpu,
    }


def _wait_until_serving(url: str, headers: dict[str, str], server: Any) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, headers=headers, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"gunicorn does not answer {url}:\n{server.tail()}")
        time.sleep(0.1)


async def _hammer(
    url: str, headers: dict[str, str], concurrency: int, seconds: float, warmup: float
) -> tuple[list[float], Counter, float]:
    """`concurrency` clients in a closed loop; only requests started after the warm-up count."""
    latencies: list[float] = []
    statuses: Counter = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:
        begin = time.perf_counter()
        measure_from, end = begin + warmup, begin + warmup + seconds

        async def one_client() -> None:
            while (started := time.perf_counter()) < end:
                response = await client.get(url)
                elapsed = time.perf_counter() - started
                if started >= measure_from:
                    latencies.append(elapsed)
                    statuses[response.status_code] += 1

        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        window = max(time.perf_counter(), end) - measure_from
    return latencies, statuses, window
