"""When a failed task is tried again, per its effective `retry` policy (§2.2).

Exponential delays follow correction 14 (`interval * delayFactor^(n-1)` for the n-th retry,
capped at `maxInterval`), not 0.20.7's truncated, linear formula. Random delays are drawn
from a hash of the task run id and the attempt count, so the decision function stays a
function: deciding twice on the same snapshot gives the same date.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from executions.engine.flow import CREATE_NEW_EXECUTION, RetryPolicy
from executions.engine.model import Execution, TaskRun


def retry_delay(policy: RetryPolicy, retry_number: int, seed: str = "") -> timedelta:
    """The wait before the `retry_number`-th retry (1 = the first retry)."""
    if policy.type == "exponential":
        delay = policy.interval * (policy.delay_factor ** max(retry_number - 1, 0))
        if policy.max_interval is not None and delay > policy.max_interval:
            return policy.max_interval
        return delay
    if policy.type == "random":
        low = policy.min_interval
        high = policy.max_interval if policy.max_interval is not None else low
        if high <= low:
            return low
        digest = hashlib.sha256(f"{seed}:{retry_number}".encode()).digest()
        fraction = int.from_bytes(digest[:8], "big") / 2**64
        return low + (high - low) * fraction
    return policy.interval


def next_task_retry(policy: RetryPolicy, task_run: TaskRun) -> datetime | None:
    """RETRY_FAILED_TASK: the date of the next attempt of `task_run`, or None when the
    attempts (`maxAttempt`, counting the first) or the time (`maxDuration`, from the first
    attempt's start) are used up."""
    count = len(task_run.attempts)
    if count == 0 or (policy.max_attempt is not None and count >= policy.max_attempt):
        return None
    last = task_run.attempts[-1].state.last_date
    at = last + retry_delay(policy, count, task_run.id)
    first = task_run.attempts[0].state.start_date
    if policy.max_duration is not None and at > first + policy.max_duration:
        return None
    return at


def next_execution_retry(
    policy: RetryPolicy, execution: Execution, now: datetime
) -> datetime | None:
    """CREATE_NEW_EXECUTION: the date of the next execution, counted with the execution's
    `attempt_number` and bounded by `maxDuration` from the original creation date."""
    count = execution.attempt_number
    if policy.max_attempt is not None and count >= policy.max_attempt:
        return None
    at = now + retry_delay(policy, count, execution.original_id or execution.id)
    origin = execution.original_created_date or execution.state.start_date
    if policy.max_duration is not None and at > origin + policy.max_duration:
        return None
    return at


def next_retry(
    policy: RetryPolicy | None, task_run: TaskRun, execution: Execution, now: datetime
) -> datetime | None:
    if policy is None:
        return None
    if policy.behavior == CREATE_NEW_EXECUTION:
        return next_execution_retry(policy, execution, now)
    return next_task_retry(policy, task_run)
