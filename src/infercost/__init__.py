"""infercost: what LLM inference really costs.

The public library surface (``__all__``): :func:`predict` and its :class:`Prediction`, the
catalog lookups, and the error family. See docs/architecture.md for the layers.
"""

from __future__ import annotations

from infercost.catalog import (
    get_accelerator,
    get_engine,
    get_model,
    get_quant_format,
    load_accelerators,
    load_models,
)
from infercost.errors import (
    CatalogError,
    DoesNotFitError,
    InfercostError,
    InputError,
    UnknownNameError,
)
from infercost.predict import PREDICT_JSON_KEYS, Prediction, predict

__all__ = [
    "PREDICT_JSON_KEYS",
    "CatalogError",
    "DoesNotFitError",
    "InfercostError",
    "InputError",
    "Prediction",
    "UnknownNameError",
    "get_accelerator",
    "get_engine",
    "get_model",
    "get_quant_format",
    "load_accelerators",
    "load_models",
    "predict",
]
__version__ = "0.1.0"
