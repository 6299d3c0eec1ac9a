"""Schemathesis against the triggers part of the OpenAPI document: whatever the input, the
triggers API never answers 500 and never breaks its own response schema."""

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

from accounts.services import api_token_create
from flows.services import flow_create
from tests.triggers.support import DOWNSTREAM, SCHEDULED

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
def acme_token(acme, alice) -> str:
    flow_create(tenant=acme, user=alice, source=SCHEDULED)
    flow_create(tenant=acme, user=alice, source=DOWNSTREAM)
    return api_token_create(user=alice, name="schemathesis", expires_in_days=1).raw


@schema.include(path_regex=r"/triggers").parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_it_never_answers_500_or_breaks_its_schema(case, acme_token):
    if "tenant" in (case.path_parameters or {}):
        case.path_parameters["tenant"] = "acme"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {acme_token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
