"""Types shared by the simulator tests (a module of its own: every test folder has a
``conftest``, so ``from conftest import ...`` depends on which one was imported first)."""

from __future__ import annotations

from collections.abc import Callable

from infercost.perf.step import StepModel

StepFactory = Callable[..., StepModel]
