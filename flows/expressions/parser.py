"""Pebble's grammar on Jinja's parser.

Jinja's `Parser` keeps the template structure (text, `{{ }}`, statement bodies, macros); this
subclass replaces every expression with Pebble's precedence-climbing grammar and the
statements with Pebble's forms:

- precedence (low to high): ternary `a ? b : c`; `or` 10; `and` 15; `is`, `is not`,
  `contains` 20; `==`/`equals`, `!=`, `<`, `>`, `<=`, `>=` 30; `+`, `-` 40; `*`, `/`, `%` 60;
  `|` filter 100; `~` 110; `..`, `??`, `???` 120; unary `not`, `-`, `+` 500. So
  `'a' ~ 'b' | upper` is `AB` and `not a == b` is `(not a) == b`, as in Pebble.
- literals: `true`/`TRUE`, `false`/`FALSE`, `null`/`NULL`/`none`/`NONE`, numbers, strings
  (single or double quotes, `"#{expr}"` interpolation), `[lists]`, `{maps}`.
- `name(args)` calls a function or macro; `x.name(args)` a whitelisted Java method;
  arguments are positional then `name=value`.
- statements: `if`/`elseif`/`else`, `for x in …`/`else`, `set`, `macro`, `filter`.
  Everything Kestra disables (`include`, `import`, `extends`, `embed`, `from`, `cache`,
  `parallel`, `flush`, `autoescape`) and every Jinja-only tag is an "Unknown tag" error.

The result is made of Jinja's own nodes only (Jinja forbids new node types): each operation is
a `Call` of a `helpers.py` function, `??` is a `CondExpr` around `pb_absent`/`pb_present`,
`and`/`or` are Jinja's lazy `And`/`Or` over `pb_bool`, the ternary a `CondExpr`.
"""

from __future__ import annotations

from typing import Any

from jinja2 import nodes
from jinja2.parser import Parser

__all__ = ["PebbleParser"]

_HELPERS = "flows.expressions.helpers."


def _helper(name: str, *args: nodes.Expr, lineno: int | None = None) -> nodes.Call:
    """A call of `helpers.<name>(*args)`, the way every Pebble operation is compiled."""
    call = nodes.Call(nodes.ImportedName(_HELPERS + name), list(args), [], None, None)
    return call.set_lineno(lineno or 1)


def _const(value: Any) -> nodes.Const:
    return nodes.Const(value)


def _context() -> nodes.ContextReference:
    return nodes.ContextReference()


def _arguments(args: list[nodes.Expr], kwargs: list[nodes.Keyword]) -> tuple[nodes.Expr, ...]:
    pairs = [nodes.Pair(nodes.Const(k.key), k.value) for k in kwargs]
    return nodes.List(args), nodes.Dict(pairs)


_LITERALS: dict[str, Any] = {
    "true": True,
    "TRUE": True,
    "false": False,
    "FALSE": False,
    "null": None,
    "NULL": None,
    "none": None,
    "NONE": None,
}
_RESERVED = frozenset(_LITERALS) | {"loop"}

# token key -> (precedence, operator)
_BINARY: dict[str, tuple[int, str]] = {
    "name:or": (10, "or"),
    "name:and": (15, "and"),
    "name:is": (20, "is"),
    "name:contains": (20, "contains"),
    "eq": (30, "=="),
    "name:equals": (30, "=="),
    "ne": (30, "!="),
    "gt": (30, ">"),
    "lt": (30, "<"),
    "gteq": (30, ">="),
    "lteq": (30, "<="),
    "add": (40, "+"),
    "sub": (40, "-"),
    "mul": (60, "*"),
    "div": (60, "/"),
    "mod": (60, "%"),
    "pipe": (100, "|"),
    "tilde": (110, "~"),
    "pb_range": (120, ".."),
    "pb_nc": (120, "??"),
    "pb_uc": (120, "???"),
}
_UNARY_PRECEDENCE = 500
_STATEMENTS = frozenset({"if", "for", "set", "macro", "filter"})


class PebbleParser(Parser):
    """Parses Pebble templates into Jinja nodes whose operations call `helpers.py`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: names that are Python locals of the compiled code: loop variables, macro arguments
        self._locals: list[set[str]] = []

    # -- statements

    def parse_statement(self) -> nodes.Node | list[nodes.Node]:
        token = self.stream.current
        if token.type != "name":
            self.fail("tag name expected", token.lineno)
        if token.value not in _STATEMENTS:
            self.fail(f"Unknown tag '{token.value}'", token.lineno)
        self._tag_stack.append(token.value)
        try:
            if token.value == "filter":
                return self.parse_filter_block()
            return getattr(self, f"parse_{token.value}")()
        finally:
            self._tag_stack.pop()

    def parse_if(self) -> nodes.If:
        node = result = nodes.If(lineno=self.stream.expect("name:if").lineno)
        while True:
            node.test = _helper(
                "pb_bool", _const("if"), self.parse_expression(), lineno=node.lineno
            )
            node.body = self.parse_statements(("name:elseif", "name:else", "name:endif"))
            node.elif_ = []
            node.else_ = []
            token = next(self.stream)
            if token.test("name:elseif"):
                node = nodes.If(lineno=self.stream.current.lineno)
                result.elif_.append(node)
                continue
            if token.test("name:else"):
                result.else_ = self.parse_statements(("name:endif",), drop_needle=True)
            break
        return result

    def parse_for(self) -> nodes.For:
        lineno = self.stream.expect("name:for").lineno
        target = nodes.Name(self._new_variable_name(), "store", lineno=lineno)
        self.stream.expect("name:in")
        iterable = _helper("pb_iter", self.parse_expression(), lineno=lineno)
        self._locals.append({target.name})
        try:
            body = self.parse_statements(("name:endfor", "name:else"))
        finally:
            self._locals.pop()
        if next(self.stream).value == "endfor":
            else_: list[nodes.Node] = []
        else:
            else_ = self.parse_statements(("name:endfor",), drop_needle=True)
        return nodes.For(target, iterable, body, else_, None, False, lineno=lineno)

    def parse_set(self) -> nodes.ExprStmt:  # type: ignore[override]
        lineno = self.stream.expect("name:set").lineno
        name = self._new_variable_name()
        self.stream.expect("assign")
        value = self.parse_expression()
        return nodes.ExprStmt(
            _helper("pb_set", _context(), _const(name), value, lineno=lineno), lineno=lineno
        )

    def parse_macro(self) -> nodes.Macro:
        node = nodes.Macro(lineno=next(self.stream).lineno)
        node.name = self._new_variable_name()
        self.parse_signature(node)
        # Pebble passes null for an argument the call leaves out
        node.defaults = [nodes.Const(None)] * (len(node.args) - len(node.defaults)) + node.defaults
        self._locals.append({arg.name for arg in node.args})
        try:
            node.body = self.parse_statements(("name:endmacro",), drop_needle=True)
        finally:
            self._locals.pop()
        return node

    def parse_filter_block(self) -> nodes.FilterBlock:
        node = nodes.FilterBlock(lineno=next(self.stream).lineno)
        current: nodes.Expr | None = None
        while True:
            name = self.stream.expect("name").value
            args, kwargs = self._call_args() if self.stream.current.type == "lparen" else ([], [])
            if current is None:
                current = nodes.Filter(None, name, args, kwargs, None, None, lineno=node.lineno)
            else:
                current = nodes.Filter(current, name, args, kwargs, None, None)
            if not self.stream.skip_if("pipe"):
                break
        node.filter = current
        node.body = self.parse_statements(("name:endfilter",), drop_needle=True)
        return node

    def _new_variable_name(self) -> str:
        token = self.stream.expect("name")
        if token.value in _RESERVED:
            self.fail(f"Can not assign a value to {token.value}", token.lineno)
        return token.value

    # -- expressions

    def parse_expression(self, with_condexpr: bool = True) -> nodes.Expr:
        return self._expression(0)

    def parse_tuple(self, *args: Any, **kwargs: Any) -> nodes.Expr:  # type: ignore[override]
        """`{{ a, b }}` is not Pebble: a print tag holds exactly one expression."""
        return self._expression(0)

    def _binary(self) -> tuple[int, str] | None:
        token = self.stream.current
        key = f"name:{token.value}" if token.type == "name" else token.type
        return _BINARY.get(key)

    def _expression(self, min_precedence: int) -> nodes.Expr:
        token = self.stream.current
        lineno = token.lineno
        node: nodes.Expr
        if token.test("name:not"):
            next(self.stream)
            node = _helper("pb_not", self._expression(_UNARY_PRECEDENCE), lineno=lineno)
        elif token.type in ("add", "sub"):
            next(self.stream)
            operand = self._expression(_UNARY_PRECEDENCE)
            sign = _const(-1 if token.type == "sub" else 1)
            node = _helper("pb_binary", _const("*"), sign, operand, lineno=lineno)
        elif token.type == "lparen":
            next(self.stream)
            node = self._expression(0)
            self.stream.expect("rparen")
            node = self._postfix(node)
        else:
            node = self._primary()

        while (operator := self._binary()) is not None and operator[0] >= min_precedence:
            precedence, op = operator
            next(self.stream)
            if op == "|":
                node = self._filter(node)
            elif op == "is":
                negated = bool(self.stream.skip_if("name:not"))
                name = self.stream.expect("name").value
                args = self._call_args()[0] if self.stream.current.type == "lparen" else []
                node = _helper(
                    "pb_test", _const(name), node, nodes.List(args), _const(negated), lineno=lineno
                )
            else:
                right = self._expression(precedence + 1)
                node = self._combine(op, node, right, lineno)

        if min_precedence == 0 and self.stream.current.type == "pb_q":
            next(self.stream)
            yes = self._expression(0)
            self.stream.expect("colon")
            no = self._expression(0)
            test = _helper("pb_bool", _const("ternary"), node, lineno=lineno)
            node = nodes.CondExpr(test, yes, no, lineno=lineno)
        return node

    @staticmethod
    def _combine(op: str, left: nodes.Expr, right: nodes.Expr, lineno: int) -> nodes.Expr:
        if op in ("and", "or"):
            kind = nodes.And if op == "and" else nodes.Or
            return kind(
                _helper("pb_bool", _const(op), left, lineno=lineno),
                _helper("pb_bool", _const(op), right, lineno=lineno),
                lineno=lineno,
            )
        if op in ("??", "???"):
            # (right if absent(left) else left), with left evaluated once (see helpers)
            test = _helper("pb_absent", left, _const(op == "??"), lineno=lineno)
            fallback = _helper("pb_fallback", right, lineno=lineno)
            return nodes.CondExpr(
                test, fallback, _helper("pb_present", lineno=lineno), lineno=lineno
            )
        return _helper("pb_binary", _const(op), left, right, lineno=lineno)

    def _filter(self, node: nodes.Expr) -> nodes.Expr:
        token = self.stream.expect("name")
        args, kwargs = self._call_args() if self.stream.current.type == "lparen" else ([], [])
        return _helper(
            "pb_filter", _const(token.value), node, *_arguments(args, kwargs), lineno=token.lineno
        )

    def _primary(self) -> nodes.Expr:
        token = self.stream.current
        lineno = token.lineno
        node: nodes.Expr
        if token.type == "name":
            if token.value in _LITERALS:
                next(self.stream)
                node = nodes.Const(_LITERALS[token.value], lineno=lineno)
            elif self.stream.look().type == "lparen":
                next(self.stream)
                args, kwargs = self._call_args()
                node = _helper(
                    "pb_call",
                    _context(),
                    _const(token.value),
                    *_arguments(args, kwargs),
                    lineno=lineno,
                )
            else:
                next(self.stream)
                node = self._variable(token.value, lineno)
        elif token.type in ("string", "integer", "float"):
            next(self.stream)
            node = nodes.Const(token.value, lineno=lineno)
        elif token.type == "pb_istring":
            next(self.stream)
            node = self._interpolation(token.value, lineno)
        elif token.type == "lbracket":
            node = self._list()
        elif token.type == "lbrace":
            node = self._map()
        else:
            self.fail(f"Unexpected token '{token.value}'", lineno)
        return self._postfix(node)

    def _variable(self, name: str, lineno: int) -> nodes.Expr:
        """A loop variable or macro argument is a Jinja name (a Python local, and `loop` lets
        Jinja build its loop context); anything else is read from the context at run time, so
        a `{% set %}` made inside a loop is seen after it, as in Pebble."""
        if name == "loop" or any(name in scope for scope in self._locals):
            return nodes.Name(name, "load", lineno=lineno)
        return _helper("pb_var", _context(), _const(name), lineno=lineno)

    def _postfix(self, node: nodes.Expr) -> nodes.Expr:
        while True:
            token = self.stream.current
            if token.type == "dot":
                next(self.stream)
                attribute = next(self.stream)
                if attribute.type == "integer":
                    node = nodes.Getitem(node, nodes.Const(attribute.value), "load")
                elif attribute.type != "name":
                    self.fail("an attribute name is expected after '.'", attribute.lineno)
                elif self.stream.current.type == "lparen":
                    args, kwargs = self._call_args()
                    if kwargs:
                        self.fail("Can not use named arguments when calling a bean method")
                    node = _helper(
                        "pb_method",
                        node,
                        _const(attribute.value),
                        nodes.List(args),
                        lineno=attribute.lineno,
                    )
                else:
                    node = nodes.Getattr(node, attribute.value, "load", lineno=token.lineno)
            elif token.type == "lbracket":
                next(self.stream)
                key = self._expression(0)
                self.stream.expect("rbracket")
                node = nodes.Getitem(node, key, "load", lineno=token.lineno)
            elif token.type == "lparen":
                self.fail("only functions and macros can be called", token.lineno)
            else:
                return node

    def _call_args(self) -> tuple[list[nodes.Expr], list[nodes.Keyword]]:
        self.stream.expect("lparen")
        args: list[nodes.Expr] = []
        kwargs: list[nodes.Keyword] = []
        while self.stream.current.type != "rparen":
            if args or kwargs:
                self.stream.expect("comma")
            if self.stream.current.type == "name" and self.stream.look().type == "assign":
                key = self.stream.current.value
                next(self.stream)
                next(self.stream)
                kwargs.append(nodes.Keyword(key, self._expression(0)))
            else:
                if kwargs:
                    self.fail("Positional arguments must be declared before any named arguments.")
                args.append(self._expression(0))
        self.stream.expect("rparen")
        return args, kwargs

    def _list(self) -> nodes.List:
        lineno = self.stream.expect("lbracket").lineno
        items: list[nodes.Expr] = []
        while self.stream.current.type != "rbracket":
            if items:
                self.stream.expect("comma")
            items.append(self._expression(0))
        self.stream.expect("rbracket")
        return nodes.List(items, lineno=lineno)

    def _map(self) -> nodes.Dict:
        lineno = self.stream.expect("lbrace").lineno
        pairs: list[nodes.Pair] = []
        while self.stream.current.type != "rbrace":
            if pairs:
                self.stream.expect("comma")
            key = self._expression(0)
            self.stream.expect("colon")
            pairs.append(nodes.Pair(key, self._expression(0), lineno=lineno))
        self.stream.expect("rbrace")
        return nodes.Dict(pairs, lineno=lineno)

    def _interpolation(self, text: str, lineno: int) -> nodes.Expr:
        """`"Hello #{ name }!"`: literal parts and expressions, concatenated like `~`."""
        parts: list[nodes.Expr] = []
        position = 0
        while (start := text.find("#{", position)) >= 0:
            if start > position:
                parts.append(nodes.Const(text[position:start]))
            end, depth = start + 2, 1
            while end < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                end += 1
            if depth:
                self.fail("unclosed string interpolation", lineno)
            inner = PebbleParser(self.environment, "{{" + text[start + 2 : end - 1] + "}}")
            inner.stream.expect("variable_begin")
            parts.append(inner.parse_expression())
            inner.stream.expect("variable_end")
            position = end
        if position < len(text):
            parts.append(nodes.Const(text[position:]))
        return _helper("pb_concat", nodes.List(parts), lineno=lineno)
