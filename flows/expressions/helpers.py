"""The functions compiled templates call for every Pebble operation.

The parser turns each Pebble construct into a plain Jinja `Call` of one of these functions
(imported into the compiled module with `nodes.ImportedName`), so all semantics live here and
in `runtime.py`, and Jinja's own node set and code generator are used unchanged.

An operand that is `Missing` (an unknown variable, key or index, see runtime.py) makes the
operation return that `Missing`: the information travels up to `??`, `???`, `is defined` or
`| default`, which turn it into a value, or to a sink, which raises. That is how Pebble's
strict-variables exception propagates, without needing try/except in generated code.
"""

from __future__ import annotations

from typing import Any

from jinja2.runtime import Context, Macro
from jinja2.utils import missing

from flows.expressions import filters, kestra_filters, methods, runtime, state
from flows.expressions.errors import EvaluationError
from flows.expressions.functions import Call
from flows.expressions.registry import FILTERS, FUNCTIONS, bind
from flows.expressions.runtime import Missing
from flows.expressions.serialize import MapEntry, output_text


def _first_missing(*values: Any) -> Missing | None:
    """The first `Missing` among the operands (not inside them: a list literal holding one is
    caught when it is printed)."""
    for value in values:
        if isinstance(value, Missing):
            return value
    return None


ROOT_UNDEFINED = "Unable to find "


def pb_var(context: Context, name: str) -> Any:
    value = context.resolve_or_missing(name)
    if value is missing:  # Kestra's wording for an unknown root variable (strict variables)
        return runtime.undefined(f"{ROOT_UNDEFINED}`{name}` used in the expression", name)
    return value


def pb_set(context: Context, name: str, value: Any) -> str:
    """`{% set %}`: the template-level scope, even inside a loop (Pebble's ScopeChain.set)."""
    if isinstance(value, Missing):
        raise value.fail()
    context.vars[name] = value
    context.exported_vars.add(name)
    return ""


def pb_call(context: Context, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    poisoned = _first_missing(*args, *kwargs.values())
    if poisoned is not None:
        return poisoned
    spec = FUNCTIONS.get(name)
    if spec is not None:
        call = Call(context, context.environment, state.current())
        return state.check_size(spec.fn(bind(spec.names, tuple(args), kwargs), call))
    macro = context.resolve_or_missing(name)
    if isinstance(macro, Macro):
        return context.environment.call(context, macro, *args, **kwargs)  # type: ignore[attr-defined]
    raise EvaluationError(f"Function or Macro [{name}] does not exist")


def pb_method(obj: Any, name: str, args: list[Any]) -> Any:
    poisoned = _first_missing(obj, *args)
    if poisoned is not None:
        return poisoned
    return state.check_size(methods.call_method(obj, name, tuple(args)))


def pb_filter(name: str, value: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    spec = FILTERS.get(name)
    if spec is None:
        raise EvaluationError(f"Filter [{name}] does not exist.")
    poisoned = _first_missing(*args, *kwargs.values())
    if poisoned is not None:
        return poisoned
    if isinstance(value, Missing):
        if name != "default":
            return value
        value = None
    return state.check_size(spec.fn(value, bind(spec.names, tuple(args), kwargs)))


def pb_test(name: str, value: Any, args: list[Any], negated: bool) -> Any:
    if name == "defined":
        return (value is not None and not isinstance(value, Missing)) != negated
    poisoned = _first_missing(value, *args)
    if poisoned is not None:
        return poisoned
    if args:
        raise EvaluationError(f"The '{name}' test takes no arguments")
    return runtime.run_test(name, value) != negated


def pb_absent(value: Any, nulls: bool) -> bool:
    """The test of `left ?? right` (nulls) / `left ??? right`: keeps `left` for pb_present."""
    state.current().stash.append(value)
    return isinstance(value, Missing) or (nulls and value is None)


def pb_fallback(value: Any) -> Any:
    """`??` chose its right side: forget the left one."""
    state.current().stash.pop()
    return value


def pb_present() -> Any:
    """`??` keeps its left side, evaluated only once."""
    return state.current().stash.pop()


def pb_binary(op: str, left: Any, right: Any) -> Any:
    poisoned = _first_missing(left, right)
    if poisoned is not None:
        return poisoned
    return runtime.binary(op, left, right)


def pb_bool(where: str, value: Any) -> bool:
    return runtime.to_bool(where, value)


def pb_not(value: Any) -> Any:
    if isinstance(value, Missing):  # `not missing is defined` is false in Pebble, not an error
        return value
    return not runtime.to_bool("not", value)


def pb_concat(parts: list[Any]) -> Any:
    poisoned = _first_missing(*parts)
    return poisoned if poisoned is not None else runtime.concat(*parts)


def pb_iter(value: Any) -> Any:
    """The iterable of `{% for %}`: maps give entries (`e.key`, `e.value`), turns are counted."""
    if isinstance(value, Missing):
        raise value.fail()
    if value is None:
        return ()
    if isinstance(value, dict):
        items: Any = [MapEntry(key, item) for key, item in value.items()]
    elif isinstance(value, list | tuple | set):
        items = value
    else:
        raise EvaluationError(f"Not an iterable object. Value = [{output_text(value)[:100]}]")
    state.count_iterations(len(items))
    return items


#: the filter modules fill FILTERS when imported
_REGISTERED = (filters, kestra_filters)

#: marks the functions the sandbox may call without its generic checks
for _helper in (
    pb_var,
    pb_set,
    pb_call,
    pb_method,
    pb_filter,
    pb_test,
    pb_absent,
    pb_fallback,
    pb_present,
    pb_binary,
    pb_bool,
    pb_not,
    pb_concat,
    pb_iter,
):
    _helper.pb_helper = True  # type: ignore[attr-defined]
