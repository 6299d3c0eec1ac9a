"""Kestra's truthiness of a rendered condition (`TruthUtils.isTruthy`).

`runIf`, `If.condition`, `Fail.condition`, `WaitFor.condition`, SLA `assert` and the
`IS_TRUE`/`IS_FALSE` preconditions render their expression to a string, then ask this: false
only for null and the exact strings "false", "0", "-0" and "" (case-sensitive, untrimmed), so
"False", "no", "null", " " and "0.0" are all true.
"""

from __future__ import annotations

from typing import Any

from flows.expressions.serialize import output_text

__all__ = ["truthy"]

_FALSE_VALUES = frozenset({"false", "0", "-0", ""})


def truthy(rendered: str | Any) -> bool:
    """True unless `rendered` is None or one of "false", "0", "-0", "".

    A non-string (a typed render) is first printed the way `{{ }}` prints it, so `False`
    counts as "false" and `0` as "0".
    """
    if rendered is None:
        return False
    text = rendered if isinstance(rendered, str) else output_text(rendered)
    return text not in _FALSE_VALUES
