"""infercost: what LLM inference really costs.

The public library surface (``__all__``), the entry points scripts are meant to use; each is
imported on first use, so ``import infercost`` is cheap (the CLI's start-up depends on it):

- physics: :func:`predict` -> :class:`Prediction` (fit, throughput, latency, $/M tokens);
- economics: :func:`deployment_cost` (all-in $/M of one deployment), :func:`api_price`
  (an API price sheet), :func:`tco` (owned hardware);
- decisions: :func:`search` (cheapest configuration under targets), :func:`pareto`,
  :func:`compare_gpus`, :func:`breakeven` with :class:`BreakevenInputs`, :func:`size_fleet`
  with :class:`Traffic` and :class:`Replica`;
- serving simulator: :func:`simulate`;
- calibration: :func:`import_file` (benchmark result files), :func:`prepare_all` and
  :func:`fit_all` (efficiencies fitted to them);
- the catalog lookups and the error family.

docs/library.md shows each with an example. Everything else is internal and may change.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers and IDEs; imported lazily at run time
    from infercost.calibrate.fit import fit_all, prepare_all
    from infercost.calibrate.importers import import_file
    from infercost.catalog import (
        get_accelerator,
        get_engine,
        get_model,
        get_quant_format,
        load_accelerators,
        load_models,
    )
    from infercost.cost.api import api_price
    from infercost.cost.tco import tco
    from infercost.errors import (
        CatalogError,
        DoesNotFitError,
        InfercostError,
        InputError,
        UnknownNameError,
    )
    from infercost.plan.breakeven import BreakevenInputs, breakeven
    from infercost.plan.compare import compare_gpus
    from infercost.plan.deployment_cost import deployment_cost
    from infercost.plan.fleet import Replica, size_fleet
    from infercost.plan.pareto import pareto
    from infercost.plan.search import search
    from infercost.plan.traffic import Traffic
    from infercost.predict import PREDICT_JSON_KEYS, Prediction, predict
    from infercost.sim import simulate

#: Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "PREDICT_JSON_KEYS": "infercost.predict",
    "Prediction": "infercost.predict",
    "predict": "infercost.predict",
    "deployment_cost": "infercost.plan.deployment_cost",
    "api_price": "infercost.cost.api",
    "tco": "infercost.cost.tco",
    "search": "infercost.plan.search",
    "pareto": "infercost.plan.pareto",
    "compare_gpus": "infercost.plan.compare",
    "breakeven": "infercost.plan.breakeven",
    "BreakevenInputs": "infercost.plan.breakeven",
    "size_fleet": "infercost.plan.fleet",
    "Traffic": "infercost.plan.traffic",
    "Replica": "infercost.plan.fleet",
    "simulate": "infercost.sim",
    "import_file": "infercost.calibrate.importers",
    "prepare_all": "infercost.calibrate.fit",
    "fit_all": "infercost.calibrate.fit",
    "get_accelerator": "infercost.catalog",
    "get_engine": "infercost.catalog",
    "get_model": "infercost.catalog",
    "get_quant_format": "infercost.catalog",
    "load_accelerators": "infercost.catalog",
    "load_models": "infercost.catalog",
    "CatalogError": "infercost.errors",
    "DoesNotFitError": "infercost.errors",
    "InfercostError": "infercost.errors",
    "InputError": "infercost.errors",
    "UnknownNameError": "infercost.errors",
}

__all__ = [
    "PREDICT_JSON_KEYS",
    "BreakevenInputs",
    "CatalogError",
    "DoesNotFitError",
    "InfercostError",
    "InputError",
    "Prediction",
    "Replica",
    "Traffic",
    "UnknownNameError",
    "api_price",
    "breakeven",
    "compare_gpus",
    "deployment_cost",
    "fit_all",
    "get_accelerator",
    "get_engine",
    "get_model",
    "get_quant_format",
    "import_file",
    "load_accelerators",
    "load_models",
    "pareto",
    "predict",
    "prepare_all",
    "search",
    "simulate",
    "size_fleet",
    "tco",
]


def _version() -> str:
    """The installed distribution's version (pyproject.toml), or the source tree's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("infercost")
    except PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    if name == "__version__":
        return _version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'infercost' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


class _Package(types.ModuleType):
    """The package object: importing the submodule ``infercost.predict`` binds the name
    ``predict`` on its parent; the public ``infercost.predict`` stays the function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "predict" and isinstance(value, types.ModuleType):
            value = value.predict
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
