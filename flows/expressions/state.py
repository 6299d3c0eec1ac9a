"""Per-render state and the limits that keep one expression from hanging a worker.

The compiled templates are shared by every thread, so what belongs to one render (the
services, the secrets it revealed, how many loop turns it already made) lives in a
`contextvars.ContextVar`: invisible to templates, safe across threads, and inherited by the
nested renders of `render()`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flows.expressions.errors import EvaluationError, SecurityViolation

#: Longest rendered text, and longest string any operator or filter may build (1 MiB).
MAX_OUTPUT_CHARS = 1024 * 1024
#: Largest list `range()` / `a..b` may build.
MAX_RANGE_ITEMS = 100_000
#: Loop turns of all `{% for %}` of one render, nested renders included.
MAX_LOOP_ITERATIONS = 1_000_000
#: Nested `render()` calls (Kestra stops its recursive rendering after 100 passes).
MAX_RENDER_DEPTH = 100


@dataclass
class RenderState:
    """What one top-level render shares with its nested renders."""

    variables: Any
    services: Any = None
    secrets_seen: set[str] = field(default_factory=set)
    iterations: int = 0
    depth: int = 0
    #: left operands of `??` / `???` waiting for their verdict (see helpers.pb_absent)
    stash: list[Any] = field(default_factory=list)


_STATE: contextvars.ContextVar[RenderState | None] = contextvars.ContextVar(
    "aviary_expression_state", default=None
)


def current() -> RenderState:
    state = _STATE.get()
    if state is None:  # a compiled template called outside render(): nothing to share
        raise EvaluationError("expression evaluated outside of a render")
    return state


@contextmanager
def entered(state: RenderState) -> Iterator[RenderState]:
    """Make `state` current for the duration of one render."""
    token = _STATE.set(state)
    try:
        yield state
    finally:
        _STATE.reset(token)


def count_iterations(turns: int) -> None:
    """Charge `turns` loop turns to the current render; refuse past the limit."""
    state = _STATE.get()
    if state is None:
        return
    state.iterations += turns
    if state.iterations > MAX_LOOP_ITERATIONS:
        raise SecurityViolation(
            f"too many loop iterations (the limit is {MAX_LOOP_ITERATIONS:,} per render)"
        )


def check_size(value: Any) -> Any:
    """Refuse strings and lists that would grow past the output limit."""
    if isinstance(value, str) and len(value) > MAX_OUTPUT_CHARS:
        raise SecurityViolation(f"a value exceeds the {MAX_OUTPUT_CHARS // 1024} KiB limit")
    if isinstance(value, list | tuple) and len(value) > MAX_OUTPUT_CHARS:
        raise SecurityViolation(f"a list exceeds {MAX_OUTPUT_CHARS:,} items")
    return value
