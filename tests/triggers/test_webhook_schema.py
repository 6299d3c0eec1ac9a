"""Schemathesis against the webhook endpoint of the OpenAPI document: whatever the path,
method and body, it never answers 500 and never breaks its own response schema. Half the
cases use the real key, so that bodies reach the parsing and the execution."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from flows.services import flow_create
from tests.triggers.test_webhooks import KEY, hook_yaml

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection(db):
    """Requests run in this process inside the test's transaction (see
    tests/test_openapi_conformance.py)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def hook(acme, alice):
    return flow_create(tenant=acme, user=alice, source=hook_yaml())


@schema.include(path_regex=r"/executions/webhook/").parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_it_never_answers_500_or_breaks_its_schema(case, hook):
    parameters = case.path_parameters or {}
    parameters["tenant"] = "acme"
    if len(str(parameters.get("key", ""))) % 2 == 0:  # the real webhook, half the time
        parameters.update(namespace="company.team", flow_id="hook", key=KEY)
    case.call_and_validate(
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance]
    )
