"""The execution page's file links: every `kestra:///` URI of the execution in task outputs,
flow outputs and inputs gets Download (and Preview for text files); the session-authenticated
download and preview fragment follow the API's rule on `path`."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from tests.executions.files_support import (
    add_task_run,
    make_execution,
    prefix,
    store,
    use_storage_root,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage_root(settings, tmp_path):
    return use_storage_root(settings, tmp_path / "storage")


@pytest.fixture
def alice_web(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def with_files(acme, storage_root):
    """An ended execution with a CSV from a script, a PNG, a FILE input and a flow output."""
    execution = make_execution(acme)
    csv = store(acme, execution, "tasks/script/r1/out.csv", b"a,b\n1,2\n")
    png = store(acme, execution, "tasks/script/r1/plot.png", b"\x89PNG")
    upload = store(acme, execution, "inputs/data/in.txt", b"hello input\n")
    other = make_execution(acme)
    foreign = store(acme, other, "tasks/x/r/secret.txt", b"not yours")
    add_task_run(
        acme,
        execution,
        "script",
        {"outputFiles": {"out.csv": csv, "plot.png": png}, "exitCode": 0, "stolen": foreign},
    )
    row = type(execution).objects.for_tenant(acme).filter(pk=execution.id)
    row.update(inputs={"data": upload, "who": "Ada"}, outputs={"report": csv})
    execution.refresh_from_db()
    return execution, {"csv": csv, "png": png, "upload": upload, "foreign": foreign}


def _href(execution, uri: str, preview: bool = False) -> str:
    route = "file/preview" if preview else "file"
    return f"/ui/acme/executions/{execution.id}/{route}?path={quote(uri, safe='')}"


def test_the_page_links_every_file_of_the_execution(alice_web, with_files):
    execution, uris = with_files
    page = html.unescape(alice_web.get(f"/ui/acme/executions/{execution.id}").content.decode())
    for name in ("csv", "png", "upload"):
        assert f'href="{_href(execution, uris[name])}"' in page, name
    assert page.count(f'href="{_href(execution, uris["csv"])}"') == 2  # task output, flow output
    assert f'hx-get="{_href(execution, uris["csv"], preview=True)}"' in page
    assert f'hx-get="{_href(execution, uris["upload"], preview=True)}"' in page
    assert _href(execution, uris["png"], preview=True) not in page  # binary: download only
    assert quote(uris["foreign"], safe="") not in page  # another execution's: no link
    assert 'aria-label="Download out.csv"' in page
    assert 'aria-label="Output files"' in page
    assert re.search(r"outputFiles\.out\.csv</span>", page)


def test_the_live_fragment_keeps_the_links(alice_web, with_files):
    execution, uris = with_files
    fragment = alice_web.get(f"/ui/acme/executions/{execution.id}/live").content.decode()
    assert html.escape(_href(execution, uris["csv"])) in fragment


def test_the_page_downloads_a_file(alice_web, with_files):
    execution, uris = with_files
    response = alice_web.get(_href(execution, uris["csv"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a,b\n1,2\n"
    assert response["Content-Disposition"] == 'attachment; filename="out.csv"'


def test_the_page_refuses_a_file_of_another_execution(alice_web, with_files):
    execution, uris = with_files
    for path in (uris["foreign"], "kestra:///../../etc/passwd"):
        response = alice_web.get(_href(execution, path))
        assert response.status_code == 422
        assert b"not yours" not in response.content
        assert f"starting with {prefix(execution)}".encode() in response.content
    response = alice_web.get(_href(execution, prefix(execution) + "tasks/gone.csv"))
    assert response.status_code == 404


def test_the_preview_fragment(alice_web, with_files):
    execution, uris = with_files
    response = alice_web.get(_href(execution, uris["csv"], preview=True))
    assert response.status_code == 200
    assert '<pre class="file-preview-content" aria-label="Preview">a,b\n1,2</pre>' in (
        response.content.decode()
    )
    response = alice_web.get(_href(execution, uris["png"], preview=True))
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert "No preview for &#x27;.png&#x27; files" in response.content.decode()
    response = alice_web.get(_href(execution, uris["foreign"], preview=True))
    assert response.status_code == 422
    assert b"not yours" not in response.content


def test_another_tenant_gets_a_404(with_files, mallory, client):
    execution, uris = with_files
    client.force_login(mallory)
    for url in (_href(execution, uris["csv"]), _href(execution, uris["csv"], preview=True)):
        assert client.get(url).status_code == 404
        assert client.get(url.replace("/ui/acme/", "/ui/globex/")).status_code == 404


def test_the_file_routes_need_a_login(with_files, client):
    execution, uris = with_files
    response = client.get(_href(execution, uris["csv"]))
    assert response.status_code == 302
    assert response["Location"].startswith("/login")
