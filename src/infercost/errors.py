"""The infercost exception family.

Every error a user can cause is an :class:`InfercostError` whose message says what was wrong
and what to do. The CLI catches this one base class, prints the message on one line and exits
non-zero; any other exception is a bug and keeps its traceback.

Tree::

    InfercostError
    ├── UnknownNameError (also LookupError)  an id or spelling that is not in the catalog
    ├── CatalogError (also ValueError)       a catalog file, row or field that fails validation
    ├── InputError (also ValueError)         a user-supplied value or file that cannot be used
    └── DoesNotFitError                      a deployment whose weights + KV cache exceed memory
"""

from __future__ import annotations

from collections.abc import Sequence


class InfercostError(Exception):
    """Base class of every error a user can cause; ``str(err)`` is the one-line message."""


class UnknownNameError(InfercostError, LookupError):
    """A model, GPU, engine, dtype or offer name that the catalog does not know.

    Attributes:
        kind: what was looked up ("GPU", "model", ...).
        name: the spelling the user gave.
        candidates: the closest catalog ids, best first (may be empty).
    """

    def __init__(self, kind: str, name: str, candidates: Sequence[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.candidates = tuple(candidates)
        hint = (
            f" Did you mean: {', '.join(self.candidates)}?"
            if self.candidates
            else f" Run `infercost {kind.lower()}s` to list them."
        )
        super().__init__(f"Unknown {kind} {name!r}.{hint}")

    def __str__(self) -> str:  # LookupError would otherwise quote the message
        return str(self.args[0])


class CatalogError(InfercostError, ValueError):
    """A catalog file that fails validation; names the file, row and field."""

    def __init__(self, path: str, message: str, row: int | None = None) -> None:
        self.path = path
        self.row = row
        where = f"{path}" + (f", row {row}" if row is not None else "")
        super().__init__(f"Catalog file {where}: {message}")


class InputError(InfercostError, ValueError):
    """A user-supplied value or file that cannot be used as given."""


class DoesNotFitError(InfercostError):
    """A deployment whose memory needs exceed the usable GPU memory.

    Attributes:
        needed_bytes: bytes per GPU the deployment needs.
        available_bytes: usable bytes per GPU.
        suggestion: what would fit, in words.
    """

    def __init__(self, message: str, needed_bytes: float, available_bytes: float) -> None:
        self.needed_bytes = needed_bytes
        self.available_bytes = available_bytes
        super().__init__(message)
