"""Flows in and out of ZIP archives: export by query, import of a ZIP or a YAML upload."""

from __future__ import annotations

import io
import zipfile

from django.conf import settings

from flows import services
from flows.parsers import decode_source, max_source_bytes
from flows.spec.yaml_loader import split_documents
from tenants.errors import PayloadTooLarge, Unprocessable, Violation


def import_files(name: str, data: bytes) -> list[services.ImportedFile]:
    """The YAML files in an upload: the members of a ZIP, or the upload itself."""
    limit = int(settings.AVIARY["MAX_IMPORT_BYTES"])
    if len(data) > limit:
        raise PayloadTooLarge(f"the upload is larger than {limit} bytes")
    if not zipfile.is_zipfile(_as_file(data)):
        if not name.lower().endswith((".yml", ".yaml")):
            raise Unprocessable(
                f"expected a .zip of YAML files or a .yml/.yaml file, got '{name}'",
                violations=[Violation(path="fileUpload", message="unsupported file type")],
            )
        return _documents(name, decode_source(_capped(name, data), name=name))
    files: list[services.ImportedFile] = []
    total = 0
    with zipfile.ZipFile(_as_file(data)) as archive:
        for member in archive.infolist():
            if member.is_dir() or not member.filename.lower().endswith((".yml", ".yaml")):
                continue
            total += member.file_size
            if member.file_size > max_source_bytes() or total > limit:  # a ZIP bomb stops here
                raise PayloadTooLarge(f"{member.filename} unpacks to more than the limit")
            raw = archive.read(member)
            files.extend(_documents(member.filename, decode_source(raw, name=member.filename)))
    if not files:
        raise Unprocessable(
            "the ZIP holds no .yml or .yaml file",
            violations=[Violation(path="fileUpload", message="no YAML file")],
        )
    return files


def _documents(name: str, text: str) -> list[services.ImportedFile]:
    documents = split_documents(text) or [text]
    if len(documents) == 1:
        return [services.ImportedFile(name=name, source=documents[0])]
    return [
        services.ImportedFile(name=f"{name}#{index + 1}", source=document)
        for index, document in enumerate(documents)
    ]


def _capped(name: str, data: bytes) -> bytes:
    if len(data) > max_source_bytes():
        raise PayloadTooLarge(f"{name} is larger than {max_source_bytes()} bytes")
    return data


def _as_file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
