"""`GET /api/v1/{tenant}/executions/{id}/file`, `/file/metas` and `/file/preview`: a file of
the execution is downloaded, measured and previewed; anything outside the execution's storage
folder (traversal, another namespace, another execution, another scheme) is a 422 that reveals
nothing, a missing file a 404, another tenant's execution a 404."""

from __future__ import annotations

import os

import pytest

from executions.models import Execution
from flows.services import flow_create
from tenants.storage.local import LocalStorage
from tests.conftest import flow_yaml
from tests.executions.files_support import make_execution, prefix, store, use_storage_root

pytestmark = pytest.mark.django_db

CSV = b"id,name\n1,ada\n2,grace\n3,linus\n4,barbara\n"
SECRET = b"top secret of another execution"
ENDPOINTS = ["file", "file/metas", "file/preview"]


@pytest.fixture
def storage_root(settings, tmp_path):
    return use_storage_root(settings, tmp_path / "storage")


@pytest.fixture
def execution(acme, storage_root):
    return make_execution(acme)


@pytest.fixture
def csv_uri(acme, execution):
    return store(acme, execution, "tasks/write/4xyz/out.csv", CSV)


def _url(execution, endpoint: str, tenant: str = "acme") -> str:
    return f"/api/v1/{tenant}/executions/{execution.id}/{endpoint}"


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


# ---------- happy paths ----------


def test_it_downloads_a_file_as_an_attachment(alice_api, execution, csv_uri):
    response = alice_api.get(_url(execution, "file"), {"path": csv_uri})
    assert response.status_code == 200
    assert _body(response) == CSV
    assert response["Content-Disposition"] == 'attachment; filename="out.csv"'
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Length"] == str(len(CSV))


def test_it_guesses_the_content_type_from_the_name(acme, alice_api, execution):
    uri = store(acme, execution, "outputs/report.json", b'{"ok": true}')
    response = alice_api.get(_url(execution, "file"), {"path": uri})
    assert response["Content-Type"] == "application/json"
    unknown = store(acme, execution, "outputs/blob.weird", b"\x00\x01")
    response = alice_api.get(_url(execution, "file"), {"path": unknown})
    assert response["Content-Type"] == "application/octet-stream"
    assert _body(response) == b"\x00\x01"


def test_it_serves_the_file_whatever_the_accept_header(alice_api, execution, csv_uri):
    response = alice_api.get(
        _url(execution, "file"), {"path": csv_uri}, HTTP_ACCEPT="application/octet-stream"
    )
    assert response.status_code == 200
    assert _body(response) == CSV


def test_it_gives_the_size(alice_api, execution, csv_uri):
    response = alice_api.get(_url(execution, "file/metas"), {"path": csv_uri})
    assert response.status_code == 200
    assert response.json() == {"size": len(CSV)}


def test_it_previews_the_first_lines(alice_api, execution, csv_uri):
    response = alice_api.get(_url(execution, "file/preview"), {"path": csv_uri})
    assert response.status_code == 200
    assert response.json() == {
        "extension": "csv",
        "type": "TEXT",
        "content": CSV.decode().rstrip("\n"),
        "maxLine": 100,
        "truncated": False,
    }
    response = alice_api.get(_url(execution, "file/preview"), {"path": csv_uri, "maxRows": 2})
    assert response.json()["content"] == "id,name\n1,ada"
    assert response.json()["truncated"] is True
    exact = alice_api.get(_url(execution, "file/preview"), {"path": csv_uri, "maxRows": 5})
    assert exact.json()["truncated"] is False


def test_it_caps_the_preview_in_rows_and_bytes(acme, alice_api, execution):
    many = store(acme, execution, "big/lines.txt", b"".join(b"%d\n" % n for n in range(9000)))
    response = alice_api.get(_url(execution, "file/preview"), {"path": many, "maxRows": 99999})
    assert response.json()["maxLine"] == 5000
    assert response.json()["content"].split("\n")[-1] == "4999"
    assert response.json()["truncated"] is True
    wide = store(acme, execution, "big/one-line.log", "é".encode() * 700_000)  # 1.4 MB
    body = alice_api.get(_url(execution, "file/preview"), {"path": wide}).json()
    assert body["truncated"] is True
    assert len(body["content"].encode()) <= 1024 * 1024
    assert set(body["content"]) == {"é"}  # a cut character is left out, not garbled


def test_markdown_and_other_encodings(acme, alice_api, execution):
    uri = store(acme, execution, "docs/readme.md", "# Title\ncafé\n".encode("latin-1"))
    response = alice_api.get(_url(execution, "file/preview"), {"path": uri, "encoding": "latin-1"})
    assert response.json()["type"] == "MARKDOWN"
    assert response.json()["content"] == "# Title\ncafé"
    for encoding in ("nope", "base64", "rot13"):
        response = alice_api.get(
            _url(execution, "file/preview"), {"path": uri, "encoding": encoding}
        )
        assert response.status_code == 422
        assert response.json()["message"] == f"Unable to preview using encoding '{encoding}'"


def test_a_binary_file_is_not_previewed(acme, alice_api, execution):
    uri = store(acme, execution, "charts/plot.png", b"\x89PNG\r\n\x1a\n")
    response = alice_api.get(_url(execution, "file/preview"), {"path": uri})
    assert response.status_code == 422
    assert response.json()["message"].startswith("No preview for '.png' files")
    assert "download it instead" in response.json()["message"]
    assert response.json()["errors"][0]["path"] == "path"


@pytest.mark.parametrize(("_case", "raw"), [("zero", "0"), ("text", "many"), ("negative", "-3")])
def test_a_bad_max_rows_is_named(alice_api, execution, csv_uri, _case, raw):
    response = alice_api.get(_url(execution, "file/preview"), {"path": csv_uri, "maxRows": raw})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "maxRows"


def test_a_file_of_the_kestra_slug_folder_is_the_executions_too(acme, alice_api, storage_root):
    execution = make_execution(acme, flow_id="My_Flow")
    uri = f"kestra:///company/team/my-flow/executions/{execution.id}/outputs/a.txt"
    LocalStorage("acme").put(uri, b"slugged")
    response = alice_api.get(_url(execution, "file"), {"path": uri})
    assert response.status_code == 200
    assert _body(response) == b"slugged"


# ---------- refusals ----------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_missing_path_is_a_400(alice_api, execution, endpoint):
    response = alice_api.get(_url(execution, endpoint))
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "path"


def _outside_paths(execution, other) -> list[tuple[str, str]]:
    mine = prefix(execution)
    return [
        ("root traversal", "kestra:///../../etc/passwd"),
        ("traversal out of the folder", f"{mine}../{other.id}/tasks/secret.txt"),
        ("encoded traversal", f"{mine}%2e%2e/{other.id}/tasks/secret.txt"),
        ("another namespace", f"kestra:///other-ns/hello/executions/{execution.id}/x.txt"),
        ("another execution", f"{prefix(other)}tasks/secret.txt"),
        ("a plain path", "/etc/passwd"),
        ("another scheme", "file:///etc/passwd"),
        ("a host part", f"kestra://company/team/hello/executions/{execution.id}/x.txt"),
        ("the folder itself", mine),
        ("a backslash", f"{mine}tasks\\..\\..\\x.txt"),
        ("a NUL character", f"{mine}x.txt%00.csv"),
    ]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_nothing_outside_the_execution_folder_is_served(acme, alice_api, execution, endpoint):
    other = make_execution(acme)
    store(acme, other, "tasks/secret.txt", SECRET)
    for case, path in _outside_paths(execution, other):
        response = alice_api.get(_url(execution, endpoint), {"path": path})
        assert response.status_code == 422, (case, response.status_code)
        assert SECRET not in response.content, case
        assert f"expected a kestra:/// URI starting with {prefix(execution)}" in (
            response.json()["message"]
        ), case


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_symbolic_link_out_of_the_tenant_storage_is_refused(
    acme, alice_api, execution, storage_root, tmp_path, endpoint
):
    outside = tmp_path / "passwd.txt"
    outside.write_bytes(SECRET)
    uri = store(acme, execution, "tasks/real.txt", b"real")
    link = storage_root / "acme" / prefix(execution).removeprefix("kestra:///") / "tasks/link.txt"
    os.symlink(outside, link)
    response = alice_api.get(_url(execution, endpoint), {"path": uri.replace("real", "link")})
    assert response.status_code == 422
    assert SECRET not in response.content
    assert "leaves the tenant's storage" in response.json()["message"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_missing_file_is_a_404(alice_api, execution, csv_uri, endpoint):
    for path in (prefix(execution) + "tasks/nothing.txt", prefix(execution) + "tasks"):
        response = alice_api.get(_url(execution, endpoint), {"path": path})
        assert response.status_code == 404, path
        assert response.json()["message"] == f"No file at {path} in execution {execution.id}"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_tenants_execution_is_a_404(
    acme, globex, mallory_api, execution, csv_uri, endpoint
):
    for tenant in ("acme", "globex"):
        response = mallory_api.get(_url(execution, endpoint, tenant), {"path": csv_uri})
        assert response.status_code == 404, tenant
        assert b"ada" not in response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_unknown_execution_is_a_404(alice_api, execution, csv_uri, endpoint):
    response = alice_api.get(f"/api/v1/acme/executions/nope/{endpoint}", {"path": csv_uri})
    assert response.status_code == 404
    assert response.json()["message"] == "Execution nope not found"


def test_a_flow_named_file_can_still_be_executed(acme, alice, alice_api, storage_root):
    """`executions/{x}/file` is both Kestra's download (GET) and the execution (POST) of a flow
    whose id is `file`: the method tells them apart."""
    flow_create(tenant=acme, user=alice, source=flow_yaml("file"))
    response = alice_api.post("/api/v1/acme/executions/company.team/file", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["flowId"] == "file"
    assert Execution.objects.for_tenant(acme).filter(flow_id="file").count() == 1


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    base = "/api/v1/{tenant}/executions/{execution_id}"
    assert "get" in paths[f"{base}/file"]
    assert "get" in paths[f"{base}/file/metas"]
    preview = paths[f"{base}/file/preview"]["get"]
    assert {p["name"] for p in preview["parameters"]} >= {"path", "maxRows", "encoding"}
    assert "delete" in paths[base]
