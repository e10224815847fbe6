"""Token-length distributions for prompts and outputs (integer tokens >= 1).

- :class:`Fixed`: every request the same length (``vllm bench serve --random-range-ratio 0``).
- :class:`Normal`: mean and standard deviation, rounded and clipped to [1, max].
- :class:`LogNormal`: mean and standard deviation of the tokens themselves (not of their log);
  mu and sigma follow from sigma^2 = ln(1 + (std/mean)^2), mu = ln(mean) - sigma^2 / 2.
  Heavy right tail, the usual shape of chat prompt and answer lengths.
- :class:`Empirical`: resample (with replacement) observed lengths, e.g. from a trace.

Each has ``sample(n, rng) -> int64 array of shape (n,)`` and a ``mean_tokens`` property.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from infercost.errors import InputError

IntArray = npt.NDArray[np.int64]


def _positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive finite number of tokens, got {value}.")


def _check_mean_std(mean: float, std: float) -> None:
    """A positive finite mean and a finite standard deviation >= 0, in tokens."""
    _positive("The mean length", mean)
    if not math.isfinite(std) or std < 0:
        raise InputError(f"A length standard deviation must be >= 0, got {std}.")


def _clip(x: npt.NDArray[np.float64], max_tokens: int | None) -> IntArray:
    hi = float(max_tokens) if max_tokens else np.inf
    return np.asarray(np.clip(np.rint(x), 1.0, hi), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Fixed:
    """Every request has ``tokens`` tokens."""

    tokens: int

    def __post_init__(self) -> None:
        if int(self.tokens) != self.tokens or self.tokens < 1:
            raise InputError(
                f"A fixed length must be a whole number >= 1 of tokens, got {self.tokens}."
            )

    @property
    def mean_tokens(self) -> float:
        """Mean length, tokens."""
        return float(self.tokens)

    def sample(self, n: int, rng: np.random.Generator) -> IntArray:
        """``n`` lengths (tokens), shape (n,)."""
        return np.full(n, int(self.tokens), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Normal:
    """Normal lengths rounded to whole tokens, clipped to [1, ``max_tokens``]."""

    mean: float
    std: float
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        _check_mean_std(self.mean, self.std)

    @property
    def mean_tokens(self) -> float:
        """Mean before clipping, tokens."""
        return float(self.mean)

    def sample(self, n: int, rng: np.random.Generator) -> IntArray:
        """``n`` lengths (tokens), shape (n,)."""
        return _clip(rng.normal(self.mean, self.std, size=n), self.max_tokens)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Log-normal lengths with the given mean and standard deviation in tokens."""

    mean: float
    std: float
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        _check_mean_std(self.mean, self.std)

    @property
    def mean_tokens(self) -> float:
        """Mean before rounding and clipping, tokens."""
        return float(self.mean)

    def sample(self, n: int, rng: np.random.Generator) -> IntArray:
        """``n`` lengths (tokens), shape (n,)."""
        sigma2 = math.log1p((self.std / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2.0
        return _clip(rng.lognormal(mu, math.sqrt(sigma2), size=n), self.max_tokens)


@dataclass(frozen=True, slots=True)
class Empirical:
    """Resample observed lengths uniformly with replacement."""

    values: tuple[int, ...] = field()

    def __post_init__(self) -> None:
        if not self.values:
            raise InputError(
                "An empirical length distribution needs at least one observed length."
            )
        if any(int(v) != v or v < 1 for v in self.values):
            raise InputError("Empirical lengths must be whole numbers >= 1 of tokens.")

    @classmethod
    def from_array(cls, values: npt.ArrayLike) -> Empirical:
        """From any 1-D array of token counts."""
        arr = np.asarray(values).ravel()
        return cls(tuple(int(v) for v in arr))

    @property
    def mean_tokens(self) -> float:
        """Mean of the observed lengths, tokens."""
        return float(np.mean(self.values))

    def sample(self, n: int, rng: np.random.Generator) -> IntArray:
        """``n`` lengths (tokens), shape (n,)."""
        arr = np.asarray(self.values, dtype=np.int64)
        return arr[rng.integers(0, arr.size, size=n)]


LengthDist = Fixed | Normal | LogNormal | Empirical


def length_dist(
    kind: str, mean: float, cv: float = 0.0, max_tokens: int | None = None
) -> LengthDist:
    """A distribution by name: ``fixed``, ``normal`` or ``lognormal`` with coefficient of
    variation ``cv`` (std / mean).

    Raises:
        InputError: an unknown kind or bad parameters.
    """
    key = kind.strip().lower()
    if key == "fixed":
        if int(mean) != mean:
            raise InputError(f"A fixed length must be a whole number of tokens, got {mean}.")
        return Fixed(int(mean))
    if not math.isfinite(cv) or cv < 0:
        raise InputError(f"--length-cv must be >= 0, got {cv}.")
    if key == "normal":
        return Normal(mean, cv * mean, max_tokens)
    if key in ("lognormal", "log-normal"):
        return LogNormal(mean, cv * mean, max_tokens)
    raise InputError(f"Unknown length distribution {kind!r}; use fixed, normal or lognormal.")
