"""Size limits of what a run stores, for every task type and the flow itself (pure logic).

Outputs travel in the execution's rows and in every template's variables, so a task's
outputs (and the flow's `outputs`) may take at most `MAX_OUTPUTS` bytes as JSON: more fails
the attempt (the execution) with a message saying where large data belongs. A log line
keeps at most `MAX_LOG_LINE` bytes: the rest is cut and the line says how long it was.
"""

from __future__ import annotations

import json
from typing import Any

MAX_OUTPUTS = 1024 * 1024
MAX_LOG_LINE = 64 * 1024

_UNITS = ((1024 * 1024, "MiB"), (1024, "KiB"))


def human_size(size: int) -> str:
    """`1.4 MiB`, `12.0 KiB`, `512 bytes`."""
    for unit, name in _UNITS:
        if size >= unit:
            return f"{size / unit:.1f} {name}"
    return f"{size:,} bytes"


def _limit_text(limit: int) -> str:
    return human_size(limit).replace(".0 ", " ")


def json_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON (values JSON cannot hold count as their text)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8"))


def outputs_too_large(size: int, what: str = "Task outputs") -> str:
    """The message for outputs of `size` bytes, over `MAX_OUTPUTS`."""
    shown = human_size(size)
    if shown == human_size(MAX_OUTPUTS):  # 1,048,600 bytes is "1.0 MiB" too: be exact
        shown = f"{size:,} bytes"
    return (
        f"{what} are {shown}, over the {_limit_text(MAX_OUTPUTS)} limit; write large data to a "
        "file (outputFiles / storage) and output its URI"
    )


def check_outputs(outputs: Any, what: str = "Task outputs") -> str | None:
    """None when `outputs` fit, else the message saying they do not."""
    size = json_size(outputs)
    return outputs_too_large(size, what) if size > MAX_OUTPUTS else None


def truncate_line(text: str, dropped: int = 0) -> str:
    """`text` cut to `MAX_LOG_LINE` bytes (UTF-8, never inside a character) with a suffix
    giving the full size; `dropped` bytes of the line were already left out by the reader."""
    if dropped == 0 and len(text) * 4 <= MAX_LOG_LINE:  # fast path: surely short enough
        return text
    data = text.encode("utf-8", errors="surrogatepass")
    total = len(data) + dropped
    if total <= MAX_LOG_LINE:
        return text
    kept = data[:MAX_LOG_LINE].decode("utf-8", errors="ignore")
    return f"{kept}… [truncated: {total:,} bytes in all]"


__all__ = [
    "MAX_LOG_LINE",
    "MAX_OUTPUTS",
    "check_outputs",
    "human_size",
    "json_size",
    "outputs_too_large",
    "truncate_line",
]
