"""Dotted paths into a parsed flow (`tasks[2].then[0].type`), shared by the loader and the
validator so that a violation's path always finds its line in the position table."""

from __future__ import annotations

import re

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(parent: str, key: str) -> str:
    """Path of `key` inside the mapping at `parent`; odd keys (dots, spaces) are bracketed so
    that `labels['system.readOnly']` cannot be mistaken for nested keys."""
    part = key if _PLAIN_KEY.fullmatch(key) else "[" + repr(key) + "]"
    if not parent:
        return part
    return parent + part if part.startswith("[") else f"{parent}.{part}"


def index_path(parent: str, index: int) -> str:
    return f"{parent}[{index}]"


def parent_path(path: str) -> str:
    """The path one level up, "" for a top-level key."""
    if path.endswith("]"):
        depth = 0
        for position in range(len(path) - 1, -1, -1):
            char = path[position]
            if char == "]":
                depth += 1
            elif char == "[":
                depth -= 1
                if depth == 0:
                    return path[:position]
        return ""
    dot = path.rfind(".")
    bracket = path.rfind("]")
    if dot > bracket:
        return path[:dot]
    return path[: bracket + 1] if bracket >= 0 else ""
