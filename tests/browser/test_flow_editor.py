"""A person logs in, writes a flow in the editor, sees a validation error at its line, fixes
it, saves, and finds the flow in the list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from flows.models import Flow
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BROKEN = """id: browser-flow
namespace: company.web
description: Made in the browser

tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Lg
    message: Hello from Chromium
"""
FIXED = BROKEN.replace("core.log.Lg", "core.log.Log")


def _replace_source(page, text: str) -> None:
    editor = page.get_by_role("textbox", name="Source")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def test_it_creates_a_flow_in_the_editor(page, shoot, acme, alice):
    page.goto("/login")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Flows").click()
    expect(page.get_by_text("No flow yet.")).to_be_visible()
    page.get_by_role("link", name="Create flow").first.click()
    expect(page.get_by_role("heading", name="New flow")).to_be_visible()
    expect(page.get_by_role("textbox", name="Source")).to_be_visible()

    _replace_source(page, BROKEN)
    problems = page.locator("#flow-problems")
    expect(problems).to_contain_text("Line 7", timeout=10_000)
    expect(problems).to_contain_text("io.kestra.plugin.core.log.Log")  # the suggestion
    # the diagnostic sits on line 7 of the editor itself
    marked = page.locator(".cm-line", has=page.locator(".cm-lintRange-error"))
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("io.kestra.plugin.core.log.Lg")
    line_numbers = page.locator(".cm-lineNumbers .cm-gutterElement")
    lines = page.locator(".cm-content .cm-line")
    assert lines.nth(6).inner_text().strip() == "type: io.kestra.plugin.core.log.Lg"
    assert "7" in line_numbers.all_inner_texts()
    shoot(page, "1-error-at-line-7")

    _replace_source(page, FIXED)
    expect(problems).not_to_contain_text("Line 7", timeout=10_000)
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    shoot(page, "2-fixed")

    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/ui/acme/flows/company\.web/browser-flow$"))
    expect(page.get_by_role("status").filter(has_text="created")).to_be_visible()
    assert Flow.objects.for_tenant(acme).get(flow_id="browser-flow").source == FIXED

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Flows").click()
    page.get_by_role("searchbox", name="Search").fill("browser")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"q=browser"))
    expect(page.get_by_role("link", name="browser-flow")).to_be_visible()
    shoot(page, "3-in-the-list")


def test_it_refuses_to_save_an_invalid_flow_and_shows_why(page, shoot, acme, alice, client):
    page.goto("/login")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/ui/acme/flows/new")
    _replace_source(page, BROKEN)
    page.keyboard.press("Control+s")  # Ctrl-S submits, the server refuses with its violations
    expect(page.get_by_role("alert")).to_contain_text("Line 7")
    shoot(page, "refused")
    assert not Flow.objects.for_tenant(acme).exists()


def test_it_completes_task_types_from_the_registry(page, acme, alice):
    page.goto("/login")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/ui/acme/flows/new")
    editor = page.get_by_role("textbox", name="Source", exact=True)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("  - id: second\n    type: io.kestra.plugin.core.debug.Re")
    page.keyboard.type("t")  # typing, not pasting, opens the completion list
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options.filter(has_text="io.kestra.plugin.core.debug.Return")).to_have_count(1)
    page.wait_for_timeout(200)  # CodeMirror ignores Enter for 75 ms after the list opens
    page.keyboard.press("Enter")
    expect(editor).to_contain_text("type: io.kestra.plugin.core.debug.Return")
