"""infercost: what LLM inference really costs.

The public library surface; see ``__all__``.
"""

from __future__ import annotations

from infercost.errors import (
    CatalogError,
    DoesNotFitError,
    InfercostError,
    InputError,
    UnknownNameError,
)

__all__ = [
    "CatalogError",
    "DoesNotFitError",
    "InfercostError",
    "InputError",
    "UnknownNameError",
]
__version__ = "0.1.0"
