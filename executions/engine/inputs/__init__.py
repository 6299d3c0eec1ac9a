"""Typing and validation of execution inputs (Kestra 0.20 input types). Pure Python.

`resolve_inputs(definitions, provided, render=..., files=...)` returns an `InputResolution`:
typed values, every violation at once, the SECRET ids to encrypt and mask, and the submitted
ids no input declares.
"""

from executions.engine.inputs.files import safe_filename
from executions.engine.inputs.model import (
    FileSink,
    FileUpload,
    InputResolution,
    Render,
    nest_values,
)
from executions.engine.inputs.resolver import resolve_inputs

__all__ = [
    "FileSink",
    "FileUpload",
    "InputResolution",
    "Render",
    "nest_values",
    "resolve_inputs",
    "safe_filename",
]
