"""`manage.py aviary_bootstrap`: demo tenant, admin with a password shown once, examples."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.selectors import user_find_by_email
from flows.models import Flow
from tenants.selectors import tenant_find

pytestmark = pytest.mark.django_db


def _bootstrap() -> str:
    out = io.StringIO()
    call_command("aviary_bootstrap", stdout=out)
    return out.getvalue()


def test_it_creates_the_demo_tenant_admin_and_examples_once():
    first = _bootstrap()
    assert "password:" in first
    password = first.split("password:")[1].split()[0]
    admin = user_find_by_email(email="admin@aviary.local")
    assert admin.is_superuser
    assert admin.check_password(password)
    demo = tenant_find(slug="demo")
    flows = Flow.objects.for_tenant(demo).count()
    assert flows >= 3
    second = _bootstrap()
    assert "password:" not in second
    assert "exists" in second
    admin.refresh_from_db()
    assert admin.check_password(password)
    assert Flow.objects.for_tenant(demo).count() == flows
