"""Shared readers for the calibration importers: typed field access that fails loudly.

Every reader raises :class:`~infercost.errors.InputError` whose message names the file, the
place in it (row, line or JSON path) and the field, and says what to do. Nothing here skips a
bad value: an importer either returns every measurement of a file or raises.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict

from pydantic import ValidationError

from infercost.calibrate.measurement import Measurement, Metric, Mode
from infercost.errors import InputError
from infercost.units import S_PER_MS


class Overrides(TypedDict, total=False):
    """Facts about a run that a result file may not state; keyword arguments of the importers.

    A value given here wins over what the file says (the CLI options ``--gpu``, ``--model``,
    ``--tp`` ... map to these keys). ``model`` and ``gpu`` are required whenever the file does
    not state them; ``tp``/``pp``/``ep`` default to 1 and ``num_gpus`` to ``tp x pp`` (the
    default is written into ``notes``); dtypes default to ``"not stated"``.
    """

    model: str
    gpu: str
    num_gpus: int
    tp: int
    pp: int
    ep: int
    weight_dtype: str
    kv_dtype: str
    engine: str
    engine_version: str
    isl: int
    osl: int
    dataset: str
    concurrency: int
    source: str


OVERRIDE_KEYS: tuple[str, ...] = tuple(Overrides.__annotations__)
NOT_STATED = "not stated"
S_PER_US = S_PER_MS * 1e-3  #: seconds in one microsecond (derived from units.S_PER_MS)
S_PER_NS = S_PER_MS * 1e-6  #: seconds in one nanosecond

_OPTION = {
    "model": "--model",
    "gpu": "--gpu",
    "num_gpus": "--num-gpus",
    "tp": "--tp",
    "pp": "--pp",
    "ep": "--ep",
    "weight_dtype": "--weight-dtype",
    "kv_dtype": "--kv-dtype",
    "engine": "--engine",
    "engine_version": "--engine-version",
    "isl": "--isl",
    "osl": "--osl",
    "concurrency": "--concurrency",
}


def input_error(path: Path, where: str, message: str) -> InputError:
    """An :class:`InputError` for ``path`` at ``where`` (row, line or JSON key path)."""
    location = f"{path}" + (f" ({where})" if where else "")
    return InputError(f"{location}: {message}")


def get_number(obj: Mapping[str, object], key: str, path: Path, where: str) -> float:
    """``obj[key]`` as a finite float; raises naming ``key`` when absent or not a number."""
    if key not in obj:
        raise input_error(
            path, where, f"required field {key!r} is missing; is this the tool's own output?"
        )
    return as_number(obj[key], key, path, where)


def opt_number(obj: Mapping[str, object], key: str, path: Path, where: str) -> float | None:
    """``obj[key]`` as a finite float, or ``None`` when the key is absent or null."""
    if obj.get(key) is None:
        return None
    return as_number(obj[key], key, path, where)


def as_number(value: object, key: str, path: Path, where: str) -> float:
    """``value`` (a JSON number or a numeric string) as a finite float, else an InputError."""
    if isinstance(value, bool):
        raise input_error(path, where, f"field {key!r} must be a number, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise input_error(
                path, where, f"field {key!r} must be a number, got {value!r}"
            ) from None
    else:
        raise input_error(path, where, f"field {key!r} must be a number, got {value!r}")
    if not math.isfinite(number):
        raise input_error(path, where, f"field {key!r} must be finite, got {value!r}")
    return number


def as_int(value: object, key: str, path: Path, where: str) -> int:
    """``value`` as an integer (``4``, ``4.0`` or ``"4"``), else an InputError naming ``key``."""
    number = as_number(value, key, path, where)
    if number != int(number):
        raise input_error(path, where, f"field {key!r} must be a whole number, got {value!r}")
    return int(number)


def get_mapping(
    obj: Mapping[str, object], key: str, path: Path, where: str
) -> Mapping[str, object]:
    """``obj[key]`` as a JSON object; raises naming ``key`` when absent or of another type."""
    value = obj.get(key)
    if not isinstance(value, Mapping):
        what = "is missing" if key not in obj else f"must be an object, got {value!r}"
        raise input_error(path, where, f"required field {key!r} {what}")
    return value


def opt_mapping(obj: Mapping[str, object], key: str) -> Mapping[str, object] | None:
    """``obj[key]`` when it is a JSON object, else ``None``."""
    value = obj.get(key)
    return value if isinstance(value, Mapping) else None


def rate_qps(value: object, key: str, path: Path, where: str) -> float | None:
    """A request rate: ``None`` for infinite (``"inf"``, ``Infinity``, null), else qps > 0."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in {"inf", "infinity"}:
        return None
    if isinstance(value, float) and math.isinf(value) and value > 0:
        return None
    qps = as_number(value, key, path, where)
    if qps <= 0:
        raise input_error(path, where, f"field {key!r} must be > 0 or 'inf', got {value!r}")
    return qps


def load_mode(
    rate: float | None, max_concurrency: int | None
) -> tuple[Mode, int | None, float | None]:
    """(mode, concurrency, request_rate_qps) of an open-loop benchmark client.

    As in vLLM ``bench serve``: an infinite rate with a concurrency cap N is a closed loop of N
    clients (each sends when its last request ends); a finite rate is open-loop arrivals, with
    the cap (if any) on requests in flight; an infinite rate without cap sends everything at once.
    """
    if rate is None and max_concurrency is not None:
        return "closed_loop", max_concurrency, None
    return "request_rate", max_concurrency, rate


class Builder:
    """Turns configuration + metric values into :class:`Measurement` objects for one file.

    ``config`` holds the fields shared by every metric of one run; :meth:`add` appends one
    measurement and converts a pydantic validation error into an :class:`InputError` that names
    the file, the place and the field.
    """

    def __init__(self, path: Path, id_prefix: str) -> None:
        self.path = path
        self.id_prefix = id_prefix
        self.measurements: list[Measurement] = []

    def add(self, where: str, config: Mapping[str, object], metric: Metric, value: float) -> None:
        """Append one measurement of ``metric`` = ``value`` (base units) with ``config``."""
        fields = dict(config)
        fields.setdefault("id", f"{self.id_prefix}-{len(self.measurements) + 1:04d}")
        try:
            self.measurements.append(
                Measurement.model_validate({**fields, "metric": metric, "value": value})
            )
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(record)"
            raise input_error(
                self.path, where, f"field {field!r}: {first['msg']} (metric {metric})"
            ) from None


def resolve_config(
    path: Path,
    where: str,
    stated: Mapping[str, object],
    overrides: Overrides,
    *,
    tool: str,
) -> dict[str, object]:
    """Merge what the file ``stated`` with the caller's ``overrides`` (overrides win).

    Returns the shared Measurement fields (``model``, ``gpu``, ``engine``, ``engine_version``,
    ``num_gpus``, ``tp``, ``pp``, ``ep``, ``weight_dtype``, ``kv_dtype``, ``source``, ``notes``).

    Raises:
        InputError: ``model``, ``gpu`` or ``engine`` is stated neither in the file nor in the
            overrides; the message names the option that supplies it.
    """
    merged: dict[str, object] = {k: v for k, v in stated.items() if v not in (None, "")}
    merged.update({k: v for k, v in overrides.items() if v is not None})
    notes: list[str] = []
    for key in ("model", "gpu", "engine"):
        if key not in merged:
            raise input_error(
                path,
                where,
                f"{tool} output does not state the {key}; give it with {_OPTION[key]} "
                f"(library: {key}=...)",
            )
    parallel = {key: as_int(merged.get(key, 1), key, path, where) for key in ("tp", "pp", "ep")}
    assumed = [key for key in ("tp", "pp", "ep") if key not in merged]
    if assumed:
        notes.append(f"{', '.join(assumed)} not stated by the file or options; assumed 1")
    if "num_gpus" in merged:
        num_gpus = as_int(merged["num_gpus"], "num_gpus", path, where)
    else:
        num_gpus = parallel["tp"] * parallel["pp"]
    config: dict[str, object] = {
        "model": str(merged["model"]),
        "gpu": str(merged["gpu"]),
        "engine": str(merged["engine"]),
        "engine_version": str(merged.get("engine_version", "")),
        "num_gpus": num_gpus,
        **parallel,
        "weight_dtype": str(merged.get("weight_dtype", NOT_STATED)),
        "kv_dtype": str(merged.get("kv_dtype", NOT_STATED)),
        "source": str(merged.get("source", str(path))),
        "notes": "; ".join(notes),
    }
    return config


def lengths(
    overrides: Overrides,
    *,
    isl_mean: float | None,
    osl_mean: float | None,
    fixed: bool | None,
    dataset: str | None,
) -> tuple[int | None, int | None, str | None, str]:
    """(isl, osl, dataset, note) from a file's mean lengths, with overrides winning.

    ``fixed`` says whether the file shows every request had the same lengths (``None``: the
    file does not say). Varying lengths keep the rounded means in ``isl``/``osl`` and name the
    distribution in ``dataset``; an unknown case keeps the means and says so in the note.
    """
    isl = overrides.get("isl", round(isl_mean) if isl_mean is not None else None)
    osl = overrides.get("osl", round(osl_mean) if osl_mean is not None else None)
    note = ""
    if "dataset" in overrides:
        return isl, osl, overrides["dataset"], note
    if fixed is False:
        label = dataset or "varying lengths"
        return isl, osl, f"{label} (isl/osl are means per completed request)", note
    if fixed is None and ("isl" not in overrides or "osl" not in overrides):
        note = "isl/osl are means per completed request; the file does not say if they varied"
    return isl, osl, None, note


def join_notes(*parts: str) -> str:
    """Non-empty parts joined with ``; ``."""
    return "; ".join(part for part in parts if part)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path.") from None
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: not UTF-8 text; pass a result file as the tool wrote it."
        ) from None
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror}).") from None


def parse_json(path: Path, text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise input_error(path, f"line {err.lineno}", f"invalid JSON: {err.msg}") from None


def parse_jsonl(path: Path, text: str) -> list[Mapping[str, object]]:
    records: list[Mapping[str, object]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise input_error(path, f"line {number}", f"invalid JSON: {err.msg}") from None
        if not isinstance(record, Mapping):
            raise input_error(path, f"line {number}", "each line must be one JSON object")
        records.append(record)
    if not records:
        raise input_error(path, "", "the file holds no JSON records")
    return records
