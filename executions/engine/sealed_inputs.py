"""SECRET inputs at rest (pure logic; the cipher is the caller's).

An execution stores each SECRET input value sealed: `{"type": SEALED_TYPE, "value": token}`,
the token being the value encrypted by the platform (`executions/secret_inputs.py`). The
engine's snapshot keeps them sealed too, so no copy of the execution carries them in clear;
they are opened only where templates read `inputs` (`variables.base_variables`), with the
`unseal` function the platform passes in its `EngineServices`. Runs that never sealed
anything (the in-process runner, tests) keep clear values, read as they are. Either way the
clear values of SECRET inputs are masked in log lines like `secret()` values.

A SECRET input id may be dotted (`db.password`): its value sits at that path of the nested
inputs, or under the dotted key itself when `db` is an input too (see `nest_values`).

A Pause's SECRET `onResume` values are sealed the same way in its `onResume` output, and
opened where templates read `outputs` (`open_resumed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from executions.engine.rendering import RenderError

SEALED_TYPE = "aviary.datatype:fernet_encrypted"

Seal = Callable[[str], str]
Unseal = Callable[[str], str]


def secret_input_ids(definitions: Iterable[Mapping[str, Any]]) -> list[str]:
    """Ids of the SECRET inputs among a flow's `inputs:` definitions."""
    return [
        str(definition.get("id") or definition.get("name"))
        for definition in definitions
        if definition.get("type") == "SECRET" and (definition.get("id") or definition.get("name"))
    ]


def is_sealed(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and value.get("type") == SEALED_TYPE
        and isinstance(value.get("value"), str)
        and len(value) == 2
    )


def _holder(inputs: dict[str, Any], input_id: str) -> tuple[dict[str, Any], str] | None:
    """The map holding `input_id`'s value in `inputs` (copied on the way down, so that the
    caller can replace it) and its key there; None when it has no value."""
    if input_id in inputs:
        return inputs, input_id
    *branch, leaf = input_id.split(".")
    node = inputs
    for part in branch:
        child = node.get(part)
        if not isinstance(child, Mapping):
            return None
        node[part] = dict(child)
        node = node[part]
    return (node, leaf) if leaf in node else None


def _replace(
    inputs: Mapping[str, Any], ids: Iterable[str], change: Callable[[str, Any], Any]
) -> dict[str, Any]:
    result = dict(inputs)
    for input_id in ids:
        found = _holder(result, input_id)
        if found is not None:
            node, key = found
            node[key] = change(input_id, node[key])
    return result


def seal_inputs(inputs: Mapping[str, Any], ids: Iterable[str], seal: Seal) -> dict[str, Any]:
    """`inputs` with the text value of each SECRET input in `ids` sealed by `seal`."""

    def sealed(_: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value  # None: an optional input left empty
        return {"type": SEALED_TYPE, "value": seal(value)}

    return _replace(inputs, ids, sealed)


def open_inputs(
    inputs: Mapping[str, Any], ids: Iterable[str], unseal: Unseal | None
) -> dict[str, Any]:
    """`inputs` with the sealed SECRET inputs in `ids` opened by `unseal`. A value that cannot
    be opened (no `unseal` in this run, a lost key) raises `RenderError` naming the input."""

    def opened(input_id: str, value: Any) -> Any:
        if not is_sealed(value):
            return value
        if unseal is None:
            raise RenderError(f"The SECRET input '{input_id}' cannot be decrypted in this run")
        try:
            return unseal(value["value"])
        except Exception as error:  # the platform's cipher says why
            raise RenderError(
                f"The SECRET input '{input_id}' cannot be decrypted: {error}"
            ) from None

    ids = list(ids)
    return _replace(inputs, ids, opened) if ids else dict(inputs)


def open_resumed(
    outputs: Mapping[str, Any], ids: Iterable[str], unseal: Unseal | None
) -> Mapping[str, Any]:
    """A Pause's outputs with its sealed SECRET `onResume` values (`ids`) opened, as
    `open_inputs` opens flow inputs; `outputs` itself when it holds none."""
    values = outputs.get("onResume")
    if not isinstance(values, Mapping):
        return outputs
    return {**outputs, "onResume": open_inputs(values, ids, unseal)}


def resumed_secret_texts(
    outputs: Mapping[str, Any], secret_resumes: Mapping[str, Iterable[str]]
) -> set[str]:
    """The clear SECRET `onResume` values in the `outputs` variable (opened), to mask in
    logs: `secret_resumes` maps each Pause's task id to its SECRET input ids; a Pause in a
    loop has its outputs nested under the loop values."""
    texts: set[str] = set()
    for task_id, ids in secret_resumes.items():
        pending = [outputs.get(task_id)]
        while pending:
            node = pending.pop()
            if not isinstance(node, Mapping):
                continue
            values = node.get("onResume")
            if isinstance(values, Mapping):
                texts |= secret_texts(values, ids)
            else:
                pending.extend(node.values())
    return texts


def mask_sealed(value: Any, mask: str) -> Any:
    """`value` with every sealed value in it replaced by `mask`: what readers (the API, the
    pages) show of task outputs, which may hold SECRET `onResume` values."""
    if is_sealed(value):
        return mask
    if isinstance(value, Mapping):
        return {key: mask_sealed(item, mask) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_sealed(item, mask) for item in value]
    return value


def unsealer(services: Any) -> Unseal | None:
    """The `unseal` function of a run's services (`EngineServices.unseal`), if it has one."""
    return getattr(services, "unseal", None)


def secret_texts(inputs: Mapping[str, Any], ids: Iterable[str]) -> set[str]:
    """The clear values of the SECRET inputs in `ids` (opened `inputs`), to mask in logs."""
    texts = set()
    for input_id in ids:
        found = _holder(dict(inputs), input_id)
        if found is not None:
            value = found[0][found[1]]
            if isinstance(value, str) and value:
                texts.add(value)
    return texts


__all__ = [
    "SEALED_TYPE",
    "is_sealed",
    "mask_sealed",
    "open_inputs",
    "open_resumed",
    "resumed_secret_texts",
    "seal_inputs",
    "secret_input_ids",
    "secret_texts",
    "unsealer",
]
