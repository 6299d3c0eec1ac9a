"""The fixed-window counter on both of its stores: Redis (production and tests) and the
locked file of the embedded setup, shared by separate processes."""

from __future__ import annotations

import multiprocessing
import uuid
from concurrent.futures import ProcessPoolExecutor

import pytest

from triggers import rate_limits

WINDOW = 60
START = 1_700_000_040.0  # a window boundary: 1_700_000_040 = 28_333_334 * 60


@pytest.fixture(params=["redis", "file"])
def store(request, settings, tmp_path) -> str:
    """Redis is the test settings' broker; the file store is what runs without Redis."""
    if request.param == "file":
        settings.CELERY_BROKER_URL = "filesystem://"
        settings.AVIARY = {**settings.AVIARY, "EVENTS_REDIS_URL": ""}
        settings.DATA_DIR = tmp_path
    return request.param


def key() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_it_allows_up_to_the_limit_in_one_window(store):
    name = key()
    decisions = [rate_limits.hit(name, limit=3, window=WINDOW, now=START + i) for i in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.count for d in decisions] == [1, 2, 3, 4]
    assert decisions[3].retry_after == WINDOW - 3


def test_it_starts_again_in_the_next_window(store):
    name = key()
    for offset in range(3):
        rate_limits.hit(name, limit=2, window=WINDOW, now=START + offset)
    assert rate_limits.hit(name, limit=2, window=WINDOW, now=START + 59.5).allowed is False
    fresh = rate_limits.hit(name, limit=2, window=WINDOW, now=START + WINDOW)
    assert (fresh.allowed, fresh.count, fresh.retry_after) == (True, 1, WINDOW)


def test_it_counts_each_key_apart(store):
    first, second = key(), key()
    assert rate_limits.hit(first, limit=1, window=WINDOW, now=START).allowed
    assert not rate_limits.hit(first, limit=1, window=WINDOW, now=START).allowed
    assert rate_limits.hit(second, limit=1, window=WINDOW, now=START).allowed


def test_it_says_at_least_one_second(store):
    decision = rate_limits.hit(key(), limit=0, window=WINDOW, now=START + WINDOW - 0.01)
    assert (decision.allowed, decision.retry_after) == (False, 1)


def _hits(name: str) -> list[int]:
    """In a forked process, which inherits the test's settings (the file store)."""
    return [rate_limits.hit(name, limit=10**6, window=WINDOW, now=START).count for _ in range(50)]


def test_it_counts_hits_from_many_processes_exactly_once_in_the_file_store(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.AVIARY = {**settings.AVIARY, "EVENTS_REDIS_URL": ""}
    settings.DATA_DIR = tmp_path
    name = key()
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=4, mp_context=fork) as pool:
        counts = [count for part in pool.map(_hits, [name] * 4) for count in part]
    # every hit got its own number: no two processes read the same count
    assert sorted(counts) == list(range(1, 201))
    assert len(list((tmp_path / "rate-limits").iterdir())) == 1


def test_it_lets_the_call_through_when_the_store_fails(settings, caplog):
    settings.AVIARY = {**settings.AVIARY, "EVENTS_REDIS_URL": "redis://127.0.0.1:1/0"}
    decision = rate_limits.hit(key(), limit=0, window=WINDOW, now=START)
    assert decision.allowed is True
    assert "rate limit of test:" in caplog.text
