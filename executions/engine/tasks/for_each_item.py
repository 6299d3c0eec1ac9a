"""The runnable parts of a `ForEachItem` (§4.7): `<id>_split` cuts the `items` file into
batch files, `<id>_merge` joins what the batches' executions returned. Between them, the
executable `<id>_items` starts one execution per batch (`executions.engine.subflows`).

Splitting follows Kestra's `StorageService.split`: the file is read line by line (`\\n`,
`\\r\\n` or `\\r` end a line) and each line is written followed by `separator`; a batch holds
`rows` lines (default 1), or lines until it reaches `bytes` (`10KB`, `1MB`...), or the lines
are dealt round-robin into `partitions` files (empty ones dropped). Batch files keep the
extension of the items file and are listed, one URI a line, in `splits.txt`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from executions.engine.flow import FOR_EACH_ITEM_MERGE, FOR_EACH_ITEM_SPLIT
from executions.engine.subflows import OUTPUTS_FILE
from executions.engine.tasks.base import RunnableTask, TaskContext, TaskFailed, TaskResult
from executions.engine.tasks.storage import STORAGE_ERRORS, put_file, storage_of

_LINE_END = re.compile(r"\r\n|\r|\n")
_SIZE = re.compile(r"^\s*(\d+)\s*(KB|MB|GB)?\s*$", re.IGNORECASE)
_UNITS = {None: 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def lines_of(data: bytes) -> list[str]:
    """The lines of a text file, as Java's `BufferedReader.readLine` gives them."""
    text = data.decode("utf-8", errors="replace")
    if not text:
        return []
    parts = _LINE_END.split(text)
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def size_in_bytes(value: Any) -> int:
    """`10KB`, `2mb`, `512`: Micronaut's readable sizes (1 KB = 1024 bytes)."""
    match = _SIZE.match(str(value))
    if match is None or int(match.group(1)) < 1:
        raise TaskFailed(f"Invalid size with value '{value}'")
    unit = match.group(2).upper() if match.group(2) else None
    return int(match.group(1)) * _UNITS[unit]


def _positive(value: Any, name: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise TaskFailed(f"Invalid batch.{name} '{value}': expected a number") from None
    if number < 1:
        raise TaskFailed(f"Invalid batch.{name} '{value}': it must be at least 1")
    return number


def _grouped(lines: list[str], separator: str, full: Callable[[int, int], bool]) -> list[str]:
    """Consecutive lines per batch; a new batch starts when `full(bytes, rows)`."""
    batches: list[list[str]] = []
    size = rows = 0
    for line in lines:
        if not batches or full(size, rows):
            batches.append([])
            size = rows = 0
        batches[-1].append(line)
        size += len((line + separator).encode())
        rows += 1
    return [separator.join(batch) + separator for batch in batches]


def split_lines(lines: list[str], batch: Mapping[str, Any], separator: str) -> list[str]:
    """The content of each batch file (`batch` already rendered)."""
    if batch.get("bytes") is not None:
        limit = size_in_bytes(batch["bytes"])
        return _grouped(lines, separator, lambda size, _rows: size >= limit)
    if batch.get("partitions") is not None:
        count = _positive(batch["partitions"], "partitions")
        parts: list[list[str]] = [[] for _ in range(count)]
        for index, line in enumerate(lines):
            parts[index % count].append(line)
        return [separator.join(part) + separator for part in parts if part]
    rows = _positive(batch.get("rows", 1) if batch.get("rows") is not None else 1, "rows")
    return _grouped(lines, separator, lambda _size, count: count >= rows)


def _extension(uri: str) -> str:
    name = uri.rsplit("/", 1)[-1]
    return name[name.rindex(".") :] if "." in name else ".tmp"


class ForEachItemSplit(RunnableTask):
    type = FOR_EACH_ITEM_SPLIT

    def run(self, ctx: TaskContext) -> TaskResult:
        uri = str(ctx.rendered("items") or "").strip()
        if not uri.startswith("kestra://"):
            raise TaskFailed(
                f"Unable to split the items from {uri}, this is not an internal storage URI!"
            )
        raw_batch = ctx.rendered("batch", {})
        batch = dict(raw_batch) if isinstance(raw_batch, Mapping) else {}
        separator = str(batch.get("separator") if batch.get("separator") is not None else "\n")
        try:
            data = storage_of(ctx).get(uri)
        except STORAGE_ERRORS as error:
            raise TaskFailed(f"Unable to read the items from {uri}: {error}") from None
        contents = split_lines(lines_of(data), batch, separator)
        extension = _extension(uri)
        uris = [
            put_file(ctx, f"batch-{number}{extension}", content.encode())
            for number, content in enumerate(contents, start=1)
        ]
        splits = put_file(ctx, "splits.txt", "\n".join(uris).encode())
        ctx.logger.debug(f"Split {uri} into {len(uris)} batch(es)")
        return TaskResult(outputs={"splits": splits})


class ForEachItemMergeOutputs(RunnableTask):
    type = FOR_EACH_ITEM_MERGE

    def run(self, ctx: TaskContext) -> TaskResult:
        items = _items_outputs(ctx)
        base = items.get("subflowOutputsBaseUri") if items else None
        if not base:
            return TaskResult()  # no execution was started, or none returned outputs
        storage = storage_of(ctx)
        merged = bytearray()
        for number in range(1, int(items.get("numberOfBatches") or 0) + 1):
            uri = f"kestra://{base}/{number}/{OUTPUTS_FILE}"
            try:
                if storage.exists(uri):
                    merged += storage.get(uri)
            except STORAGE_ERRORS as error:
                raise TaskFailed(f"Unable to read the outputs at {uri}: {error}") from None
        if not merged:
            return TaskResult()
        return TaskResult(outputs={"subflowOutputs": put_file(ctx, OUTPUTS_FILE, bytes(merged))})


def _items_outputs(ctx: TaskContext) -> Mapping[str, Any] | None:
    """The outputs of the sibling `<id>_items` run, under the loop values of its parents
    when the ForEachItem sits in a ForEach (as Kestra's `extractOutput`)."""
    items_id = ctx.task.id.removesuffix("_merge") + "_items"
    entry: Any = (ctx.variables.get("outputs") or {}).get(items_id)
    parents = ctx.variables.get("parents") or []
    for parent in reversed(parents):
        value = (parent.get("taskrun") or {}).get("value") if isinstance(parent, dict) else None
        if value is not None and isinstance(entry, Mapping):
            entry = entry.get(value)
    return entry if isinstance(entry, Mapping) else None
