"""FILE inputs: uploads through the sink, sanitized names, and kestra:/// URIs confined to the
execution's namespace."""

from __future__ import annotations

import io

import pytest

from executions.engine.inputs import FileUpload, resolve_inputs, safe_filename
from tenants.errors import PayloadTooLarge


def test_it_stores_an_upload_and_returns_its_uri(one, sink):
    value, message = one({"type": "FILE"}, FileUpload("application-test.yml", b"a: 1\n"))
    assert message is None
    assert value == "kestra:///company/team/hello/executions/exec1/inputs/x/application-test.yml"
    assert sink.stored == {value: b"a: 1\n"}


def test_it_streams_an_upload_given_as_a_file_object(one, sink):
    upload = FileUpload("data.csv", io.BytesIO(b"a,b\n1,2\n"), size=8)
    value, message = one({"type": "FILE"}, upload)
    assert message is None
    assert sink.stored[value] == b"a,b\n1,2\n"


@pytest.mark.parametrize(
    ("name", "stored_as"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("..", "x.upl"),
        (".hidden", "hidden"),
        ("my report (final).pdf", "my_report_final_.pdf"),
        ("", "x.upl"),
    ],
)
def test_it_sanitizes_the_uploaded_file_name(one, sink, name, stored_as):
    value, message = one({"type": "FILE"}, FileUpload(name, b"data"))
    assert message is None
    assert value == f"kestra:///company/team/hello/executions/exec1/inputs/x/{stored_as}"
    assert list(sink.stored) == [value]


def test_it_uses_the_input_extension_for_a_nameless_upload(one):
    value, _ = one({"type": "FILE", "extension": "csv"}, FileUpload("", b"a,b"))
    assert value.endswith("/inputs/x/x.csv")


def test_it_keeps_long_names_short_with_their_extension():
    name = safe_filename("a" * 500 + ".csv", "fallback")
    assert len(name) == 200
    assert name.endswith(".csv")


def test_it_refuses_an_empty_upload(one, sink):
    value, message = one({"type": "FILE"}, FileUpload("empty.txt", b""))
    assert value is None
    assert message == "Invalid input for `x`, the uploaded file is empty, but received `empty.txt`"
    assert sink.stored == {}


def test_it_reads_a_blank_form_part_as_no_file(one, sink):
    assert one({"type": "FILE", "required": False}, FileUpload("", b"")) == (None, None)
    value, message = one({"type": "FILE"}, FileUpload("", b"", size=0))
    assert value is None
    assert message == "Invalid input for `x`, missing required input, but received `null`"
    assert sink.stored == {}


def test_it_accepts_a_stored_file_of_the_same_namespace(one):
    uri = "kestra:///company/team/parent/executions/p1/outputs/data.csv"
    assert one({"type": "FILE"}, uri) == (uri, None)


@pytest.mark.parametrize(
    "uri",
    [
        "kestra:///other/team/flow/executions/e/inputs/f/secret.txt",
        "kestra:///company/teammates/flow/executions/e/data.csv",
        "kestra:///company/team",
    ],
)
def test_it_refuses_a_stored_file_of_another_namespace(one, uri):
    value, message = one({"type": "FILE"}, uri)
    assert value is None
    assert message == (
        "Invalid input for `x`, the file must be stored in this execution's namespace "
        f"(kestra:///company/team/), but received `{uri}`"
    )


@pytest.mark.parametrize(
    "uri",
    [
        "kestra:///company/team/../../other/secret.txt",
        "kestra:///company/team/%2e%2e/other/secret.txt",
        "kestra:///company/team//x.txt",
        "kestra://host/company/team/x.txt",
        "kestra:///company/team/x.txt?version=1",
    ],
)
def test_it_refuses_a_kestra_uri_that_is_not_a_plain_path(one, uri):
    value, message = one({"type": "FILE"}, uri)
    assert value is None
    assert "the URI is not a plain kestra:/// file path" in message


@pytest.mark.parametrize("given", ["/etc/passwd", "s3://bucket/key", 42])
def test_it_never_reads_a_local_path_or_another_scheme(one, sink, given):
    value, message = one({"type": "FILE"}, given)
    assert value is None
    assert message.startswith("Invalid input for `x`, expected `FILE` (an uploaded file")
    assert sink.stored == {}


def test_it_refuses_files_when_there_is_no_storage(one):
    value, message = one({"type": "FILE"}, FileUpload("a.txt", b"x"), files=None)
    assert value is None
    assert message == "Invalid input for `x`, file uploads are not accepted here"


def test_it_reports_a_storage_refusal_as_the_inputs_violation(sink):
    class FullSink:
        namespace_uri = sink.namespace_uri

        def store(self, input_id, filename, data):
            raise PayloadTooLarge("the tenant's storage quota is exhausted")

    result = resolve_inputs(
        [{"id": "f", "type": "FILE"}], {"f": FileUpload("a.txt", b"x")}, files=FullSink()
    )
    assert [v.message for v in result.violations] == [
        "Invalid input for `f`, the file could not be stored: the tenant's storage quota is "
        "exhausted, but received `a.txt`"
    ]
