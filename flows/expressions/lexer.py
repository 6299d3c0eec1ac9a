"""Pebble's tokens on top of Jinja's lexer, and Kestra's `{% raw %}` handling.

Jinja's lexer already splits a template the way Pebble does (`{{ }}`, `{% %}`, `{# #}`, the
`-` whitespace trimmers, balanced brackets inside tags). `PebbleLexer` changes only what
differs:

- operators: `?` (ternary), `??`, `???` (Kestra's coalescing) and `..` (range) become tokens
  (`pb_q`, `pb_nc`, `pb_uc`, `pb_range`); Jinja's operator table is left untouched.
- string literals: Pebble only un-escapes the quote character (`'it\\'s'`), so `'\\d+'` stays a
  regex and `"a\\nb"` keeps its backslash. Jinja's Python-style unescaping is not applied.
  Double-quoted strings containing `#{...}` are marked (`pb_istring`) for interpolation.
- carriage returns: Jinja rewrites every line break of the source to `\\n`; Pebble keeps them.
  A `\\r` is hidden as `\\x1e` (whitespace to the lexer, not a line break) and put back in
  text and strings.

`{% raw %}…{% endraw %}` is handled the way Kestra's VariableRenderer does it, before the
template engine sees the text: each block is swapped for a placeholder, put back (tags
included) after rendering, and the tags are stripped from the final text only. So a raw block
survives the passes of `render()` and comes out literally, without trimming.
"""

from __future__ import annotations

import re
from ast import literal_eval
from collections.abc import Iterable, Iterator

from jinja2 import lexer as jlexer
from jinja2.exceptions import TemplateSyntaxError

__all__ = ["PebbleLexer", "protect_raw", "restore_raw", "strip_raw"]

_EXTRA_OPERATORS = {"???": "pb_uc", "??": "pb_nc", "?": "pb_q", "..": "pb_range"}
_CR = "\x1e"
_INTERPOLATED = "pb_istring"  # a double-quoted string holding `#{...}`

# Kestra's RAW_PATTERN, made DOTALL: Java's `.` stops at line breaks, so a multi-line raw
# block is not recognised by Kestra 0.20 and fails to parse (a defect Aviary fixes).
_RAW = re.compile(r"(\{%-*\s*raw\s*-*%}(.*?)\{%-*\s*endraw\s*-*%})", re.S)
_RAW_MARK = "\ue000{}\ue001"
_RAW_MARK_RE = re.compile("\ue000(\\d+)\ue001")


def protect_raw(source: str) -> tuple[str, tuple[str, ...]]:
    """Swap raw blocks for placeholders; returns the new source and the blocks in order."""
    if "raw" not in source:
        return source, ()
    blocks: list[str] = []

    def keep(match: re.Match[str]) -> str:
        blocks.append(match.group(1))
        return _RAW_MARK.format(len(blocks) - 1)

    return _RAW.sub(keep, source), tuple(blocks)


def restore_raw(text: str, blocks: tuple[str, ...]) -> str:
    if not blocks:
        return text
    return _RAW_MARK_RE.sub(lambda m: blocks[int(m.group(1))], text)


def strip_raw(text: str) -> str:
    """Keep only the content of raw blocks (VariableRenderer.render's last step)."""
    return _RAW.sub(lambda m: m.group(2), text) if "raw" in text else text


def _unescape(literal: str) -> str:
    """Pebble's unquoteAndUnescape: drop the quotes, un-escape the quote character only."""
    quote, body = literal[0], literal[1:-1]
    return body.replace("\\" + quote, quote)


class PebbleLexer(jlexer.Lexer):
    """Jinja's lexer with Pebble's extra operators and string rules."""

    def __init__(self, environment) -> None:  # type: ignore[no-untyped-def]
        super().__init__(environment)
        names = sorted([*jlexer.operators, *_EXTRA_OPERATORS], key=lambda op: -len(op))
        operator_re = re.compile("(" + "|".join(re.escape(op) for op in names) + ")")
        for state, rules in self.rules.items():
            self.rules[state] = [
                jlexer._Rule(operator_re, rule.tokens, rule.command)
                if rule.pattern is jlexer.operator_re
                else rule
                for rule in rules
            ]

    def tokeniter(  # type: ignore[override]
        self,
        source: str,
        name: str | None,
        filename: str | None = None,
        state: str | None = None,
    ) -> Iterator[tuple[int, str, str]]:
        if "\r" in source and _CR not in source:
            source = source.replace("\r", _CR)
        return super().tokeniter(source, name, filename, state)

    def wrap(  # type: ignore[override]
        self,
        stream: Iterable[tuple[int, str, str]],
        name: str | None = None,
        filename: str | None = None,
    ) -> Iterator[jlexer.Token]:
        for lineno, token, text in stream:
            if token in jlexer.ignored_tokens or token in (
                jlexer.TOKEN_RAW_BEGIN,
                jlexer.TOKEN_RAW_END,
            ):
                continue
            value: object = text
            if token == jlexer.TOKEN_DATA:
                value = text.replace(_CR, "\r")
            elif token == jlexer.TOKEN_NAME:
                if not text.isidentifier():
                    raise TemplateSyntaxError("Invalid character in identifier", lineno, name)
            elif token == jlexer.TOKEN_STRING:
                value = _unescape(text).replace(_CR, "\r")
                if text[0] == '"' and "#{" in text:
                    token = _INTERPOLATED
            elif token == jlexer.TOKEN_INTEGER:
                value = int(text.replace("_", ""), 0)
            elif token == jlexer.TOKEN_FLOAT:
                value = literal_eval(text.replace("_", ""))
            elif token == jlexer.TOKEN_OPERATOR:
                token = _EXTRA_OPERATORS.get(text) or jlexer.operators[text]
            yield jlexer.Token(lineno, token, value)
