"""The Kestra-compatible flows API: create, read, update, delete, revisions, search, validate,
and every bad input getting a clear 4xx with nothing written."""

from __future__ import annotations

import pytest

from flows.models import Flow, FlowRevision
from tenants.models import Namespace
from tests.conftest import flow_yaml, post_yaml

pytestmark = pytest.mark.django_db

FLOWS = "/api/v1/acme/flows"


def _count(acme) -> tuple[int, int, int]:
    return (
        Flow.objects.for_tenant(acme).count(),
        FlowRevision.objects.for_tenant(acme).count(),
        Namespace.objects.for_tenant(acme).count(),
    )


def test_it_creates_a_flow_and_keeps_the_source_byte_for_byte(acme, alice_api):
    source = flow_yaml(extra="# a comment, kept\nlabels:\n  team: data\n")
    response = post_yaml(alice_api, FLOWS, source)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["namespace"], body["revision"]) == ("hello", "company.team", 1)
    assert body["source"] == source
    assert body["labels"] == [{"key": "team", "value": "data"}]
    got = alice_api.get(f"{FLOWS}/company.team/hello?source=true").json()
    assert got["source"] == source
    assert got["tasks"][0]["type"] == "io.kestra.plugin.core.log.Log"


def test_it_creates_the_namespace_and_its_ancestors(acme, alice_api):
    post_yaml(alice_api, FLOWS, flow_yaml(namespace="company.team.data"))
    names = sorted(Namespace.objects.for_tenant(acme).values_list("name", flat=True))
    assert names == ["company", "company.team", "company.team.data"]


def test_it_refuses_a_duplicate_flow_with_409(acme, alice_api):
    assert post_yaml(alice_api, FLOWS, flow_yaml()).status_code == 200
    before = _count(acme)
    response = post_yaml(alice_api, FLOWS, flow_yaml(extra="description: again\n"))
    assert response.status_code == 409
    assert "already exists" in response.json()["message"]
    assert _count(acme) == before


def test_it_updates_and_lists_revisions(acme, alice_api):
    post_yaml(alice_api, FLOWS, flow_yaml())
    changed = flow_yaml(extra="description: second\n")
    response = post_yaml(alice_api, f"{FLOWS}/company.team/hello", changed, method="put")
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    same = post_yaml(alice_api, f"{FLOWS}/company.team/hello", changed, method="put")
    assert same.json()["revision"] == 2  # identical source: no new revision
    revisions = alice_api.get(f"{FLOWS}/company.team/hello/revisions").json()
    assert [r["revision"] for r in revisions] == [1, 2]
    assert revisions[0]["source"] == flow_yaml()


def test_it_refuses_an_update_whose_body_names_another_flow(acme, alice_api):
    post_yaml(alice_api, FLOWS, flow_yaml())
    before = _count(acme)
    response = post_yaml(
        alice_api, f"{FLOWS}/company.team/hello", flow_yaml(flow_id="other"), method="put"
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["path"] == "id"
    assert errors[0]["line"] == 1
    response = post_yaml(
        alice_api, f"{FLOWS}/company.team/hello", flow_yaml(namespace="company.other"), method="put"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "namespace"
    assert _count(acme) == before


def test_it_soft_deletes_and_can_recreate(acme, alice_api):
    post_yaml(alice_api, FLOWS, flow_yaml())
    assert alice_api.delete(f"{FLOWS}/company.team/hello").status_code == 204
    assert alice_api.get(f"{FLOWS}/company.team/hello").status_code == 404
    assert alice_api.delete(f"{FLOWS}/company.team/hello").status_code == 404
    revived = post_yaml(alice_api, FLOWS, flow_yaml())
    assert revived.status_code == 200
    assert revived.json()["revision"] == 3  # 1 created, 2 deleted, 3 created again


def test_it_refuses_malformed_yaml_with_line_and_column(acme, alice_api):
    source = "id: hello\nnamespace: company.team\ntasks:\n  - id: a\n    type: [unclosed\n"
    response = post_yaml(alice_api, FLOWS, source)
    assert response.status_code == 422
    body = response.json()
    assert body["message"]
    error = body["errors"][0]
    assert error["line"]
    assert error["line"] >= 5
    assert error["column"]
    assert _count(acme) == (0, 0, 0)


def test_it_refuses_an_invalid_flow_with_every_violation_and_writes_nothing(acme, alice_api):
    source = (
        "id: hello world\n"  # line 1: bad id
        "namespace: company.team\n"
        "tasks:\n"
        "  - id: a\n"
        "    type: io.kestra.plugin.core.log.Lg\n"  # line 5: unknown type
        "  - id: a\n"  # line 6: duplicate id
        "    type: io.kestra.plugin.core.debug.Return\n"
        "    format: 12\n"
    )
    response = post_yaml(alice_api, FLOWS, source)
    assert response.status_code == 422
    errors = response.json()["errors"]
    by_path = {e["path"]: e for e in errors}
    assert by_path["id"]["line"] == 1
    assert by_path["tasks[0].type"]["line"] == 5
    assert "io.kestra.plugin.core.log.Log" in by_path["tasks[0].type"]["message"]
    assert any(e["line"] == 6 and "a" in e["message"] for e in errors)
    assert _count(acme) == (0, 0, 0)


def test_it_refuses_a_body_over_1_mib_with_413(acme, alice_api):
    source = flow_yaml() + "description: '" + "x" * (1024 * 1024) + "'\n"
    response = post_yaml(alice_api, FLOWS, source)
    assert response.status_code == 413
    assert response.json()["message"]
    assert _count(acme) == (0, 0, 0)


def test_it_refuses_a_yaml_bomb(acme, alice_api):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 9):
        refs = ",".join([f"*{chr(96 + index)}"] * 9)
        lines.append(f"{chr(97 + index)}: &{chr(97 + index)} [{refs}]")
    source = "\n".join(lines) + "\nid: bomb\nnamespace: company.team\ntasks: []\n"
    response = post_yaml(alice_api, FLOWS, source)
    assert response.status_code in {413, 422}
    assert _count(acme) == (0, 0, 0)


def test_it_refuses_binary_bodies(acme, alice_api):
    response = post_yaml(alice_api, FLOWS, b"\xff\xfe\x00id: x")
    assert response.status_code == 422


def test_it_answers_404_for_an_unknown_tenant(alice_api):
    response = post_yaml(alice_api, "/api/v1/nowhere/flows", flow_yaml())
    assert response.status_code == 404
    assert response.json()["message"]


def test_it_answers_404_for_unknown_api_paths(alice_api):
    response = alice_api.get("/api/v1/acme/nothing-here")
    assert response.status_code == 404
    assert response.json()["message"]


def test_it_searches_by_text_namespace_labels_and_pages(acme, alice_api):
    post_yaml(alice_api, FLOWS, flow_yaml("a1", "company.team", "labels:\n  env: prod\n"))
    post_yaml(alice_api, FLOWS, flow_yaml("a2", "company.team.data", "labels:\n  env: dev\n"))
    post_yaml(alice_api, FLOWS, flow_yaml("b1", "other", "description: needle here\n"))
    search = f"{FLOWS}/search"

    def ids(query: str) -> list[str]:
        response = alice_api.get(f"{search}?{query}")
        assert response.status_code == 200, response.json()
        return [f["id"] for f in response.json()["results"]]

    assert ids("namespace=company") == ["a1", "a2"]
    assert ids("namespace=company.team.data") == ["a2"]
    assert ids("q=needle") == ["b1"]
    assert ids("labels=env:prod") == ["a1"]
    assert ids("sort=id:desc") == ["b1", "a2", "a1"]
    assert ids("size=2&page=2") == ["b1"]
    assert alice_api.get(f"{search}?size=2").json()["total"] == 3
    assert alice_api.get(f"{search}?sort=nope").status_code == 422
    assert alice_api.get(f"{search}?labels=nocolon").status_code == 422
    assert alice_api.get(f"{search}?page=0").status_code == 422


def test_it_validates_each_document_without_saving(acme, alice_api):
    source = flow_yaml("ok") + "---\n" + "id: bad\nnamespace: company.team\ntasks: []\n"
    response = post_yaml(alice_api, f"{FLOWS}/validate", source)
    assert response.status_code == 200
    first, second = response.json()
    assert first["flow"] == "ok"
    assert first["violations"] == []
    assert second["flow"] == "bad"
    assert second["violations"]
    assert second["violations"][0]["path"] == "tasks"
    assert _count(acme) == (0, 0, 0)


def test_it_exports_and_imports_a_zip(acme, globex, alice_api, mallory_api):
    post_yaml(alice_api, FLOWS, flow_yaml("one"))
    post_yaml(alice_api, FLOWS, flow_yaml("two", "company.team.data"))
    exported = alice_api.get(f"{FLOWS}/export/by-query?namespace=company")
    assert exported.status_code == 200
    assert exported["Content-Type"] == "application/zip"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("flows.zip", exported.content, "application/zip")
    response = mallory_api.post("/api/v1/globex/flows/import", {"fileUpload": upload})
    assert response.status_code == 200, response.json()
    assert response.json()["count"] == 2
    got = mallory_api.get("/api/v1/globex/flows/company.team.data/two?source=true").json()
    assert got["source"] == flow_yaml("two", "company.team.data")


def test_it_imports_nothing_when_one_file_is_invalid(acme, alice_api):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("good.yml", flow_yaml("good"))
        archive.writestr("bad.yml", "id: bad\nnamespace: company.team\ntasks:\n  - id: x\n")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("flows.zip", buffer.getvalue(), "application/zip")
    response = alice_api.post(f"{FLOWS}/import", {"fileUpload": upload})
    assert response.status_code == 422
    assert any(e["path"].startswith("bad.yml") for e in response.json()["errors"])
    assert _count(acme) == (0, 0, 0)


def test_it_serves_the_plugin_catalog(acme, alice_api):
    catalog = alice_api.get("/api/v1/acme/plugins").json()
    types = {t["type"] for t in catalog["tasks"]}
    assert "io.kestra.plugin.core.log.Log" in types
    log = next(t for t in catalog["tasks"] if t["type"] == "io.kestra.plugin.core.log.Log")
    assert log["properties"]["message"]["required"] is True
