"""Base request model, the bounded field types, and the checks every endpoint runs.

Two kinds of bounds apply. The *domains* of the inputs (``infercost.domains``: a token count
is a whole number in [1, 10^8], a fraction lies in [0, 1], ...) are the library's and the
CLI's: :func:`check_domains` applies the same table, so a request gets the sentence the CLI
prints for the same value (``--isl must be ...``). The *service limits*
(:class:`~infercost.api.settings.Limits`: simulated requests, sweep sizes, list lengths) are
this service's own, declared on the fields so the OpenAPI schema shows them, and answered
with 422 naming the field. Integers are capped at 2^53 so that no JSON number overflows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from infercost.api.settings import Limits
from infercost.domains import DOMAINS, Domain, check_needs, check_outputs, check_value, flag

LIMITS = Limits()
MAX_JSON_INT = 2**53

Tokens = Annotated[int, Field(ge=-MAX_JSON_INT, le=MAX_JSON_INT, description="Tokens.")]
TokensF = Annotated[float, Field(description="Tokens (0 when unknown).")]
Count = Annotated[int, Field(ge=-MAX_JSON_INT, le=MAX_JSON_INT)]
#: A name (model, GPU, dtype, offer ...): not blank, since "" would act as no value at all.
Name = Annotated[str, Field(max_length=200, pattern=r"\S")]
Names = Annotated[list[Name], Field(max_length=LIMITS.max_list)]
Floats = Annotated[list[float], Field(max_length=LIMITS.max_list)]


class Request(BaseModel):
    """A request body: frozen, unknown keys refused, no NaN or infinity, and strict types
    (docs/service.md): a number field takes a JSON number, never a string (``"1000"``) or a
    boolean (``true`` is not 1); a boolean field takes ``true``/``false`` only; an integer
    field takes a whole JSON number (``1000``, not ``1000.0``); a float field takes any JSON
    number. The web pages parse their URL strings with ``strict=False``."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)

    #: The CLI command this body mirrors (``"plan fleet"``): its options that only act with
    #: another (:data:`infercost.domains.NEEDS`) are refused alone, as the CLI refuses them.
    command: ClassVar[str | None] = None

    def sent(self) -> set[str]:
        """The fields the request sent with a value other than null (a field sent at its
        default value counts, as an option typed at its default does on the CLI)."""
        return {k for k in self.model_fields_set if getattr(self, k) is not None}

    def given(self) -> dict[str, Any]:
        """The options the request set, CLI-spelled (``--isl``), for error messages."""
        return {
            flag(k): v
            for k, v in self.model_dump(exclude_defaults=True).items()
            if v is not None and not isinstance(v, bool)
        }


def check_domains(req: Request, overrides: Mapping[str, Domain] | None = None) -> None:
    """Every numeric field against its domain, named as the CLI names it; then the options
    that only act with another (:func:`infercost.domains.check_needs`, for a body that names
    its ``command``).

    Raises:
        InputError: the first value outside its domain, or a field sent without the one it
            acts with (the CLI's message).
    """
    overrides = overrides or {}
    for name, value in req.model_dump().items():
        if name in overrides or name in DOMAINS:
            check_value(name, value, overrides.get(name), label=flag(name))
    if req.command is not None:
        check_needs(req.command, req.sent())


def checked(data: Any, req: Request) -> Any:
    """``data`` unchanged after checking it holds no inf, nan or overflowed integer.

    Raises:
        InputError: naming the key and the request's options that produced it.
    """
    check_outputs(data, req.given())
    return data
