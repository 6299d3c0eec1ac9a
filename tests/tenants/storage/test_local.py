"""LocalStorage keeps every URI inside the tenant's folder: `..`, a host part, a NUL character
or a symbolic link pointing out are refused; files are read, measured and streamed; a folder is
removed with everything in it, never the tenant's root."""

from __future__ import annotations

import os

import pytest

from tenants.storage.local import FileMissing, LocalStorage, StorageError


@pytest.fixture
def storage(tmp_path) -> LocalStorage:
    return LocalStorage("acme", root=tmp_path / "root")


def test_it_stores_reads_measures_and_streams(storage):
    uri = storage.put("company/team/f/executions/e1/out.csv", b"a,b\n")
    assert uri == "kestra:///company/team/f/executions/e1/out.csv"
    assert storage.get(uri) == b"a,b\n"
    assert storage.size(uri) == 4
    with storage.open(uri) as handle:
        assert handle.read() == b"a,b\n"
    assert storage.exists(uri)


@pytest.mark.parametrize(
    ("_case", "uri"),
    [
        ("parent", "kestra:///../globex/secret.txt"),
        ("nested parent", "kestra:///company/../../globex/secret.txt"),
        ("encoded parent", "kestra:///company/%2e%2e/%2e%2e/globex/secret.txt"),
        ("backslash", "kestra:///company\\..\\secret.txt"),
        ("host", "kestra://globex/secret.txt"),
        ("scheme", "file:///etc/passwd"),
        ("nul", "kestra:///company/secret.txt\x00.csv"),
        ("root", "kestra:///"),
    ],
)
def test_it_refuses_uris_that_leave_the_tenant_folder(storage, tmp_path, _case, uri):
    (tmp_path / "root" / "globex").mkdir(parents=True)
    (tmp_path / "root" / "globex" / "secret.txt").write_bytes(b"globex")
    for call in (storage.get, storage.open, storage.size, storage.delete, storage.delete_prefix):
        with pytest.raises(StorageError):
            call(uri)
    with pytest.raises(StorageError):
        storage.put(uri, b"x")
    assert not storage.exists(uri)
    assert (tmp_path / "root" / "globex" / "secret.txt").read_bytes() == b"globex"


def test_it_refuses_a_symbolic_link_that_points_out(storage, tmp_path):
    (tmp_path / "outside.txt").write_bytes(b"outside")
    storage.put("ns/f/a.txt", b"inside")
    os.symlink(tmp_path / "outside.txt", tmp_path / "root" / "acme" / "ns" / "f" / "link.txt")
    os.symlink(tmp_path, tmp_path / "root" / "acme" / "ns" / "dir")
    for uri in ("kestra:///ns/f/link.txt", "kestra:///ns/dir/outside.txt"):
        with pytest.raises(StorageError, match="leaves the tenant's storage"):
            storage.get(uri)
    with pytest.raises(StorageError):
        storage.delete_prefix("kestra:///ns/dir")
    assert (tmp_path / "outside.txt").read_bytes() == b"outside"


def test_a_missing_file_or_a_folder_is_file_missing(storage):
    storage.put("ns/f/a.txt", b"x")
    for uri in ("kestra:///ns/f/none.txt", "kestra:///ns/f"):
        for call in (storage.get, storage.open, storage.size):
            with pytest.raises(FileMissing, match="No file at"):
                call(uri)


def test_it_removes_a_folder_and_only_that_folder(storage, tmp_path):
    storage.put("ns/f/executions/e1/a.txt", b"1")
    storage.put("ns/f/executions/e1/tasks/t/r/b.txt", b"2")
    kept = storage.put("ns/f/executions/e2/a.txt", b"3")
    assert storage.delete_prefix("kestra:///ns/f/executions/e1/") is True
    assert not (tmp_path / "root" / "acme" / "ns" / "f" / "executions" / "e1").exists()
    assert storage.get(kept) == b"3"
    assert storage.delete_prefix("kestra:///ns/f/executions/e1/") is False  # already gone
    assert storage.delete_prefix(kept) is False  # a file, not a folder
    assert storage.get(kept) == b"3"
