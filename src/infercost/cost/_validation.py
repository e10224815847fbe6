"""One message for a pydantic validation failure, in the command line's words."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError


def flag_name(field: str, flags: Mapping[str, str]) -> str:
    """The command-line flag for a model field: ``flags[field]``, else ``--field-name``."""
    return flags.get(field, "--" + field.replace("_", "-"))


def problems_text(err: ValidationError, flags: Mapping[str, str]) -> str:
    """``--replicas must be ... (got 0); --zones ...``: each failing field as its flag, what
    pydantic requires, and the value given."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        if loc:
            parts.append(f"{flag_name(loc, flags)}: {msg} (got {e['input']!r})")
        else:
            parts.append(msg)
    return "; ".join(parts)
