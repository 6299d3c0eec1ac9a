"""The errors of the expression language.

`ExpressionError` is the only exception that leaves the package: the engine fails the task run
with its text, the API answers 422 with it. Inside the package two lighter exceptions travel
through the compiled templates:

- `UndefinedError`: a variable, key or index that does not exist (Pebble's
  `AttributeNotFoundException`). `??`, `???`, `is defined` and `| default` catch exactly this
  one, as Pebble does; everything else lets it through.
- `EvaluationError`: any other failure (a wrong type for a filter, a refused attribute, a
  limit). Never caught by the language itself.
"""

from __future__ import annotations

from tenants.errors import Unprocessable

__all__ = ["EvaluationError", "ExpressionError", "SecurityViolation", "UndefinedError"]

#: Expressions longer than this are cut in messages (the full text stays in `.expression`).
_SHOWN = 300


class UndefinedError(Exception):
    """A variable, map key or list index that does not exist (strict variables)."""

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


class EvaluationError(Exception):
    """A runtime failure that the language does not catch."""


class SecurityViolation(EvaluationError):
    """The sandbox refused an attribute, a call or a size."""


class ExpressionError(Unprocessable):
    """An expression that cannot be rendered.

    `expression` is the whole template, `message` the problem alone, `path` the property the
    template came from ("" when unknown). `str(e)` names all three, e.g.
    "Unable to render `{{ inputs.nme }}` in `message`: 'nme' is undefined".
    """

    code = "expression_error"

    def __init__(self, expression: str, message: str, path: str = "", line: int | None = None):
        self.expression = expression
        self.path = path
        self.line = line
        shown = expression if len(expression) <= _SHOWN else expression[:_SHOWN] + "…"
        where = f" in `{path}`" if path else ""
        if message.startswith("Unable to find `"):
            # Kestra's sentence for an unknown root variable, word for word
            sentence = f"{message} `{shown}` at line {line or 1}{where}"
        else:
            at = f" (line {line})" if line and "\n" in expression else ""
            sentence = f"Unable to render `{shown}`{where}: {message}{at}"
        super().__init__(sentence, field=path or None)
        # AviaryError stores the full sentence in `.message`; this package promises the problem.
        self.message = message

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self) -> tuple:
        # Celery pickles exceptions; rebuild from the parts, not from the sentence
        return (ExpressionError, (self.expression, self.message, self.path, self.line))

    def at_path(self, path: str) -> ExpressionError:
        """The same error, located at property `path` (used by render_value)."""
        if self.path or not path:
            return self
        error = ExpressionError(self.expression, self.message, path, self.line)
        error.__cause__ = self.__cause__
        return error
