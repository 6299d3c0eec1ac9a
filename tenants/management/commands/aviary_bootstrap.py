"""`manage.py aviary_bootstrap`: the demo tenant, an admin, example flows. Safe to run again."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.selectors import user_find_by_email
from accounts.services import membership_add, user_create
from flows.services import flow_create
from tenants.errors import Conflict
from tenants.selectors import tenant_find
from tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create the demo tenant, an admin user (password printed once) and example flows."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--email", default="admin@aviary.local")

    @transaction.atomic
    def handle(self, *args: object, tenant: str, email: str, **options: object) -> None:
        demo = tenant_find(slug=tenant) or tenant_create(slug=tenant, name=tenant.title())
        user = user_find_by_email(email=email)
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_create(email=email, password=password, is_superuser=True, name="Admin")
            self.stdout.write(self.style.SUCCESS("Admin user created. Shown once, keep it:"))
            self.stdout.write(f"    login:    {email}\n    password: {password}")
        else:
            self.stdout.write(
                f"Admin user {email} exists; password unchanged "
                f"(reset it with: .venv/bin/python manage.py changepassword {email})"
            )
        membership_add(tenant=demo, user=user)
        created = 0
        for path in sorted(Path(settings.AVIARY["EXAMPLE_FLOWS_DIR"]).glob("*.y*ml")):
            try:
                flow_create(tenant=demo, user=user, source=path.read_text(encoding="utf-8"))
                created += 1
            except Conflict:
                continue  # already there, maybe edited by the user: leave it alone
        self.stdout.write(f"Tenant '{demo.slug}' ready; {created} example flow(s) added.")
