"""Flow pages rendered by the server: list and filters, editor save with violations, revisions
diff, delete, import and export."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from flows.models import Flow
from flows.services import flow_create, flow_update
from tests.conftest import flow_yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


def test_it_lists_flows_with_filters_in_the_url(acme, alice, alice_web):
    flow_create(
        tenant=acme, user=alice, source=flow_yaml("alpha", "company.team", "labels:\n  env: prod\n")
    )
    flow_create(tenant=acme, user=alice, source=flow_yaml("beta", "other"))
    page = alice_web.get("/ui/acme/flows/?namespace=company").content.decode()
    assert "alpha" in page
    assert "beta" not in page
    page = alice_web.get("/ui/acme/flows/?labels=env:prod").content.decode()
    assert "alpha" in page
    assert "beta" not in page
    page = alice_web.get("/ui/acme/flows/?q=zzz").content.decode()
    assert "No flow matches these filters" in page
    assert alice_web.get("/ui/acme/flows/?labels=broken").status_code == 422


def test_it_paginates_the_list(acme, alice, alice_web):
    for index in range(30):
        flow_create(tenant=acme, user=alice, source=flow_yaml(f"f{index:02d}"))
    first = alice_web.get("/ui/acme/flows/").content.decode()
    assert "f00" in first
    assert "f29" not in first
    assert "Page 1 of 2" in first
    second = alice_web.get("/ui/acme/flows/?page=2").content.decode()
    assert "f29" in second


def test_it_shows_an_empty_state_that_says_what_to_do(acme, alice_web):
    page = alice_web.get("/ui/acme/flows/").content.decode()
    assert "Create your first flow" in page


def test_it_creates_a_flow_from_the_editor(acme, alice_web):
    response = alice_web.post("/ui/acme/flows/new", {"source": flow_yaml("created")})
    assert response.status_code == 302
    assert response["Location"] == "/ui/acme/flows/company.team/created"
    assert Flow.objects.for_tenant(acme).filter(flow_id="created").exists()


def test_it_shows_violations_with_lines_and_keeps_the_source(acme, alice_web):
    source = (
        "id: broken\nnamespace: company.team\ntasks:\n"
        "  - id: a\n    type: io.kestra.plugin.core.log.Lg\n"
    )
    response = alice_web.post("/ui/acme/flows/new", {"source": source})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Line 5" in page
    assert "io.kestra.plugin.core.log.Lg" in page
    assert not Flow.objects.for_tenant(acme).exists()


def test_it_saves_a_new_revision_and_diffs_revisions(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    response = alice_web.post(
        "/ui/acme/flows/company.team/hello", {"source": flow_yaml(extra="description: v2\n")}
    )
    assert response.status_code == 302
    page = alice_web.get("/ui/acme/flows/company.team/hello/revisions").content.decode()
    assert "Revision 1" in page
    assert "Revision 2" in page
    assert 'class="diff_add"' in page
    assert "description:&nbsp;v2" in page  # difflib keeps spaces as &nbsp;


def test_it_refuses_renaming_a_flow_in_the_editor(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    response = alice_web.post("/ui/acme/flows/company.team/hello", {"source": flow_yaml("renamed")})
    assert response.status_code == 422
    assert "Illegal flow id update" in response.content.decode()


def test_it_deletes_a_flow(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    assert alice_web.get("/ui/acme/flows/company.team/hello/delete").status_code == 405
    response = alice_web.post("/ui/acme/flows/company.team/hello/delete")
    assert response.status_code == 302
    assert alice_web.get("/ui/acme/flows/company.team/hello").status_code == 404


def test_it_imports_and_exports_from_the_list_page(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml("one"))
    flow_update(
        tenant=acme,
        user=alice,
        namespace="company.team",
        flow_id="one",
        source=flow_yaml("one", extra="description: x\n"),
    )
    exported = alice_web.get("/ui/acme/flows/export?q=one")
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert names == ["company.team.one.yml"]
    upload = SimpleUploadedFile("two.yaml", flow_yaml("two").encode())
    response = alice_web.post("/ui/acme/flows/import", {"file": upload}, follow=True)
    assert "Imported 1 flow(s)" in response.content.decode()
    assert Flow.objects.for_tenant(acme).filter(flow_id="two").exists()


def test_it_hides_another_tenants_pages(acme, globex, alice, mallory, client):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    client.force_login(mallory)
    for url in [
        "/ui/acme/",
        "/ui/acme/flows/",
        "/ui/acme/flows/company.team/hello",
        "/ui/acme/namespaces/",
        "/ui/globex/flows/company.team/hello",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post("/ui/acme/flows/company.team/hello/delete").status_code == 404
    assert Flow.objects.for_tenant(acme).get(flow_id="hello").deleted is False


def test_it_sends_anonymous_visitors_to_login(acme, client):
    response = client.get("/ui/acme/flows/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")


def test_it_escapes_flow_text_in_the_diff_and_editor(acme, alice, alice_web):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    hostile = flow_yaml(extra="description: <script>alert(1)</script>\n")
    alice_web.post("/ui/acme/flows/company.team/hello", {"source": hostile})
    for url in ["/ui/acme/flows/company.team/hello/revisions", "/ui/acme/flows/company.team/hello"]:
        page = alice_web.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
