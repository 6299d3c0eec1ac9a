"""Read-only flows (label `system.readOnly: "true"`): deployed from outside, so the editor
and the flow API refuse to save or delete them (409, nothing written); an import, the
deployment path, still replaces them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from flows.models import Flow, FlowRevision
from flows.services import flow_create
from tests.conftest import flow_yaml, post_yaml

pytestmark = pytest.mark.django_db

URL = "/api/v1/acme/flows/company.team/hello"
READ_ONLY = flow_yaml(extra='labels:\n  system.readOnly: "true"\n  team: data\n')
MESSAGE = (
    'Flow company.team.hello is read-only (label system.readOnly: "true"): it cannot be {done} '
    "from the editor or the API. Deploy a new version through the flow import "
    "(POST /flows/import), which replaces read-only flows."
)


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


def _state(acme) -> tuple:
    flow = Flow.objects.for_tenant(acme).get(flow_id="hello")
    return flow.revision, flow.deleted, flow.source, FlowRevision.objects.for_tenant(acme).count()


@pytest.mark.parametrize(
    ("labels", "read_only"),
    [
        ('labels:\n  system.readOnly: "true"\n', True),
        ("labels:\n  system.readOnly: true\n", True),
        ("labels:\n  - key: system.readOnly\n    value: 'TRUE'\n", True),
        ('labels:\n  system.readOnly: "false"\n', False),
        ("labels:\n  team: data\n", False),
        ("", False),
    ],
)
def test_it_reads_the_label_in_every_shape(acme, alice, labels, read_only):
    flow = flow_create(tenant=acme, user=alice, source=flow_yaml(extra=labels))
    assert flow.read_only is read_only


def test_the_api_refuses_to_update_or_delete_a_read_only_flow(acme, alice, alice_api):
    flow_create(tenant=acme, user=alice, source=READ_ONLY)
    before = _state(acme)

    updated = post_yaml(alice_api, URL, flow_yaml(extra="description: changed\n"), method="put")
    deleted = alice_api.delete(URL)

    assert updated.status_code == 409
    assert updated.json()["message"] == MESSAGE.format(done="edited")
    assert deleted.status_code == 409
    assert deleted.json()["message"] == MESSAGE.format(done="deleted")
    assert _state(acme) == before


def test_an_import_replaces_a_read_only_flow(acme, alice, alice_api):
    flow_create(tenant=acme, user=alice, source=READ_ONLY)
    upload = SimpleUploadedFile("hello.yml", flow_yaml().encode(), "application/x-yaml")
    response = alice_api.post("/api/v1/acme/flows/import", {"fileUpload": upload})
    assert response.status_code == 200, response.json()
    flow = Flow.objects.for_tenant(acme).get(flow_id="hello")
    assert (flow.revision, flow.read_only) == (2, False)
    assert (
        post_yaml(alice_api, URL, flow_yaml(extra="description: x\n"), method="put").status_code
        == 200
    )


def test_the_editor_shows_a_read_only_flow_without_save_nor_delete(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=READ_ONLY)
    html = alice_web.get("/ui/acme/flows/company.team/hello").content.decode()
    assert "This flow is read-only" in html
    assert ">Save</button>" not in html
    assert "Delete flow" not in html


def test_the_editor_refuses_to_save_or_delete_a_read_only_flow(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=READ_ONLY)
    before = _state(acme)

    saved = alice_web.post("/ui/acme/flows/company.team/hello", {"source": flow_yaml()})
    deleted = alice_web.post("/ui/acme/flows/company.team/hello/delete", follow=True)

    assert saved.status_code == 409
    assert escape(MESSAGE.format(done="edited")) in saved.content.decode()
    assert deleted.redirect_chain[-1][0] == "/ui/acme/flows/company.team/hello"
    assert MESSAGE.format(done="deleted") in [str(m) for m in deleted.context["messages"]]
    assert _state(acme) == before


def test_an_ordinary_flow_is_still_editable(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    html = alice_web.get("/ui/acme/flows/company.team/hello").content.decode()
    assert ">Save</button>" in html
    assert "This flow is read-only" not in html
