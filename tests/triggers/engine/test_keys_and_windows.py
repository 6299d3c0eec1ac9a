"""The Flow-trigger index keys and the window arithmetic, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from triggers.engine.keys import ANY, TERMINAL_STATES, match_keys
from triggers.engine.preconditions import Upstream, precondition_subs, where_matches, window_bounds

FLOW = "io.kestra.plugin.core.condition.ExecutionFlow"


def test_a_trigger_without_narrowing_conditions_listens_to_everything_terminal():
    assert match_keys({}) == sorted((ANY, ANY, state) for state in TERMINAL_STATES)


def test_states_narrow_and_created_is_never_a_key():
    assert match_keys({"states": ["CREATED", "PAUSED"]}) == [(ANY, ANY, "PAUSED")]


def test_an_execution_flow_condition_narrows_to_its_flow():
    spec = {"states": ["SUCCESS"], "conditions": [{"type": FLOW, "namespace": "a", "flowId": "b"}]}
    assert match_keys(spec) == [("a", "b", "SUCCESS")]


def test_preconditions_give_the_union_of_their_flows_and_where_groups():
    spec = {
        "states": ["FAILED"],
        "preconditions": {
            "id": "p",
            "flows": [{"namespace": "x", "flowId": "one"}, {"namespace": "y"}],
            "where": [
                {"id": "w", "filters": [{"field": "NAMESPACE", "type": "EQUAL_TO", "value": "z"}]},
            ],
        },
    }
    assert match_keys(spec) == [("x", "one", "FAILED"), ("y", ANY, "FAILED"), ("z", ANY, "FAILED")]


def test_an_or_group_or_a_prefix_widens_to_any_namespace():
    starts = {"field": "NAMESPACE", "type": "STARTS_WITH", "value": "company"}
    spec = {
        "states": ["FAILED"],
        "preconditions": {"id": "p", "where": [{"id": "w", "filters": [starts]}]},
    }
    assert match_keys(spec) == [(ANY, ANY, "FAILED")]


def test_keys_follow_kestra_numbering():
    subs = precondition_subs({"flows": [{}, {}], "where": [{"id": "a"}, {"id": "b"}]})
    assert list(subs) == ["condition_1", "condition_2", "condition_3_a", "condition_4_b"]


@pytest.mark.parametrize(
    ("window", "now", "start", "end"),
    [
        ({}, (2026, 11, 30, 13, 7, 5), (2026, 11, 30, 0, 0), (2026, 11, 30, 23, 59, 59, 999000)),
        (
            {"window": "PT10M"},
            (2026, 11, 30, 13, 37, 5),
            (2026, 11, 30, 13, 30),
            (2026, 11, 30, 13, 39, 59, 999000),
        ),
        (
            {"window": "PT6H"},
            (2026, 11, 30, 13, 37),
            (2026, 11, 30, 13, 0),
            (2026, 11, 30, 18, 59, 59, 999000),
        ),
        (
            {"window": "P1D", "windowAdvance": "PT6H"},
            (2026, 11, 30, 3, 0),
            (2026, 11, 30, 6, 0),
            (2026, 12, 1, 5, 59, 59, 999000),
        ),
        (
            {"type": "SLIDING_WINDOW", "window": "PT1H"},
            (2026, 11, 30, 13, 37, 5),
            (2026, 11, 30, 13, 37, 5),
            (2026, 11, 30, 14, 37, 5),
        ),
        (
            {"type": "DAILY_TIME_DEADLINE", "deadline": "09:00:00"},
            (2026, 11, 30, 8, 0),
            (2026, 11, 30, 0, 0),
            (2026, 11, 30, 9, 0),
        ),
        (
            {"type": "DAILY_TIME_WINDOW", "startTime": "06:00:00", "endTime": "09:30:00"},
            (2026, 11, 30, 8, 0),
            (2026, 11, 30, 6, 0),
            (2026, 11, 30, 9, 30),
        ),
    ],
)
def test_window_bounds_as_kestra_computes_them(window, now, start, end):
    got = window_bounds(window, datetime(*now, tzinfo=UTC))
    assert got == (datetime(*start, tzinfo=UTC), datetime(*end, tzinfo=UTC))


def test_where_filters_and_their_operand():
    upstream = Upstream("e1", "company.team", "etl", "FAILED")
    group = {
        "id": "g",
        "filters": [
            {"field": "NAMESPACE", "type": "STARTS_WITH", "value": "company"},
            {"field": "STATE", "type": "IN", "values": ["FAILED", "WARNING"]},
            {"field": "FLOW_ID", "type": "REGEX", "value": "e.l"},
        ],
    }
    assert where_matches(group, upstream, render=str)
    group["filters"].append({"field": "EXPRESSION", "type": "IS_TRUE", "value": "false"})
    assert not where_matches(group, upstream, render=str)
    assert where_matches({**group, "operand": "OR"}, upstream, render=str)
