"""Files of a script task's working directory: `inputFiles` written into it, `kestra://` URIs
of the commands copied into it, `outputFiles` globs matched in it and uploaded to the
internal storage, and the `{{ outputDir }}` folder whose files are all uploaded.

Globs follow `java.nio` glob syntax, as Kestra matches them against the working directory:
`*` and `?` stay within a folder, `**` crosses folders, `[a-z]`/`[!a]` are classes,
`{a,b}` alternatives. A `regex:` or `glob:` prefix matches the absolute path instead.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from executions.engine.tasks.base import TaskContext, TaskFailed
from executions.engine.tasks.storage import put_file, read_file

INTERNAL_STORAGE_URI = re.compile(r"kestra://[-a-zA-Z0-9%._+~#=/]*")
OUTSIDE = "The path to resolve must be a relative path inside the current working directory."


@contextmanager
def extra_variables(ctx: TaskContext, extra: Mapping[str, Any]) -> Iterator[None]:
    """Make `extra` (e.g. `workingDir`) visible to every template rendered meanwhile: the
    renderer reads the attempt's own variables map, so it is extended, then restored."""
    variables = ctx.variables
    if not isinstance(variables, dict):
        yield
        return
    saved = {name: variables[name] for name in extra if name in variables}
    variables.update(extra)
    try:
        yield
    finally:
        for name in extra:
            variables.pop(name, None)
        variables.update(saved)


def inside(base: Path, relative: str) -> Path:
    """`relative` resolved in `base`, refusing absolute paths and `..` escapes."""
    if not relative or relative.startswith(("/", "\\")):
        raise TaskFailed(OUTSIDE)
    resolved = (base / relative).resolve()
    if resolved != base.resolve() and base.resolve() not in resolved.parents:
        raise TaskFailed(OUTSIDE)
    return resolved


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def input_files(ctx: TaskContext) -> dict[str, str]:
    """`inputFiles` rendered: a map of name -> content (or a JSON string of one)."""
    raw = ctx.prop("inputFiles")
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        kept = {str(name): value for name, value in raw.items() if value is not None}
        rendered = ctx.render(kept)
        return {str(ctx.render(name)): _text(content) for name, content in rendered.items()}
    if isinstance(raw, str):
        try:
            parsed = json.loads(ctx.render(raw))
        except ValueError as error:
            raise TaskFailed(f"Invalid `inputFiles`: expected a JSON object: {error}") from None
        if not isinstance(parsed, Mapping):
            raise TaskFailed("Invalid `inputFiles`: expected a JSON object")
        return {str(name): _text(value) for name, value in parsed.items() if value is not None}
    raise TaskFailed(f"Invalid `files` properties with type '{type(raw).__name__}'")


def write_input_files(ctx: TaskContext, workdir: Path, files: Mapping[str, str]) -> None:
    for name, content in files.items():
        path = inside(workdir, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if content.startswith("kestra://"):
            path.write_bytes(read_file(ctx, content.strip()))
        else:
            path.write_bytes(content.encode("utf-8"))


class LocalCopies:
    """`kestra://` URIs in rendered commands replaced by local copies in the working dir."""

    def __init__(self, ctx: TaskContext, workdir: Path) -> None:
        self.ctx = ctx
        self.workdir = workdir
        self.copies: dict[str, str] = {}

    def _copy(self, match: re.Match[str]) -> str:
        uri = match.group(0)
        if uri not in self.copies:
            path = self.workdir / secrets.token_hex(8)
            path.write_bytes(read_file(self.ctx, uri))
            self.copies[uri] = str(path)
        return self.copies[uri]

    def replace(self, command: str) -> str:
        return INTERNAL_STORAGE_URI.sub(self._copy, command)


def glob_regex(pattern: str) -> str:
    """A `java.nio` glob as a Python regular expression."""
    out: list[str] = []
    i, n, in_group = 0, len(pattern), False
    while i < n:
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 1
            else:
                out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise TaskFailed(f"Invalid outputFiles pattern '{pattern}': missing ']'")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            escaped = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
            out.append(f"[{'^' if negate else ''}{escaped}]")
            i = end
        elif char == "{" and not in_group:
            out.append("(?:")
            in_group = True
        elif char == "}" and in_group:
            out.append(")")
            in_group = False
        elif char == "," and in_group:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    if in_group:
        raise TaskFailed(f"Invalid outputFiles pattern '{pattern}': missing '}}'")
    return "".join(out)


def _matcher(pattern: str) -> tuple[re.Pattern[str], bool]:
    """A compiled pattern and whether it matches the absolute path."""
    if pattern.startswith("regex:"):
        return re.compile(pattern[len("regex:") :]), True
    if pattern.startswith("glob:"):
        return re.compile(glob_regex(pattern[len("glob:") :])), True
    return re.compile(glob_regex(pattern.lstrip("/\\"))), False


def _skipped(path: Path) -> bool:
    """Only regular files are outputs: a symbolic link is never followed."""
    return path.is_symlink() or not path.is_file()


def matching_files(workdir: Path, patterns: list[str], skip: Path | None) -> list[Path]:
    matchers = [_matcher(pattern) for pattern in patterns]
    found = []
    for path in sorted(workdir.rglob("*")):
        if _skipped(path) or (skip is not None and skip in path.parents):
            continue
        relative = path.relative_to(workdir).as_posix()
        for regex, absolute in matchers:
            if regex.fullmatch(str(path) if absolute else relative):
                found.append(path)
                break
    return found


def upload_output_files(
    ctx: TaskContext, workdir: Path, patterns: list[str], output_dir: Path | None
) -> dict[str, str]:
    """Files matching `patterns` (named `<hash>-<file name>`, as Kestra names them) and every
    file of `output_dir` (named by its path there) -> their `kestra://` URIs."""
    uploaded: dict[str, str] = {}
    for path in matching_files(workdir, patterns, output_dir) if patterns else []:
        relative = path.relative_to(workdir).as_posix()
        unique = hashlib.sha256(str(path).encode()).hexdigest()[:22]
        uploaded[relative] = put_file(ctx, f"{unique}-{path.name}", path.read_bytes())
    if output_dir is not None and output_dir.is_dir():
        for path in sorted(output_dir.rglob("*")):
            if not _skipped(path):
                relative = path.relative_to(output_dir).as_posix()
                uploaded[relative] = put_file(ctx, relative, path.read_bytes())
    return uploaded
