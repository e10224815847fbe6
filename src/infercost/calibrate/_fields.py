"""Shared readers for the calibration importers: typed field access that fails loudly.

Every reader raises :class:`~infercost.errors.InputError` whose message names the file, the
place in it (row, line or JSON path) and the field, and says what to do. Nothing here skips a
bad value: an importer either returns every measurement of a file or raises.

Facts given by the caller (:class:`Overrides`, the CLI options) only fill what a file does
not state. A fact the file states and the caller gives differently is an error naming the
field and both values; names are compared leniently (:func:`same_fact`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict

from pydantic import ValidationError

from infercost.calibrate.measurement import Measurement, Metric, Mode
from infercost.catalog import get_accelerator, get_engine, get_model, get_quant_format
from infercost.catalog.names import family_key, normalize
from infercost.errors import InputError, UnknownNameError
from infercost.units import S_PER_MS


class Overrides(TypedDict, total=False):
    """Facts about a run that a result file may not state; keyword arguments of the importers.

    They fill only what the file does not state (the CLI options ``--gpu``, ``--model``,
    ``--tp`` ... map to these keys); a value that contradicts the file raises
    :class:`~infercost.errors.InputError` naming the field, the file's value and this one.
    Agreeing spellings (``H100`` for a file's ``H100-SXM-80GB``) are accepted. ``model`` and
    ``gpu`` are required whenever the file does not state them; a ``gpu`` given here must be in
    the catalog. ``tp``/``pp``/``ep`` default to 1 and ``num_gpus`` to ``tp x pp`` (the default
    is written into ``notes``); dtypes default to ``"not stated"``.
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
_INT_FACTS = frozenset({"num_gpus", "tp", "pp", "ep", "isl", "osl", "concurrency"})
# A file's dtype of "auto" defers to the model's dtype; an option may say which that is.
_UNSTATED_DTYPES = frozenset({"", "auto", NOT_STATED})
# GGUF file names end in the quantisation type: llama-2-7b.Q4_0.gguf, Qwen2.5-7B-Q4_K_M.gguf.
_GGUF_QUANT = re.compile(r"[-.](?:i?q\d\w*|t?q\d_\w+|b?f16|f32)$", re.IGNORECASE)
_VENDOR = re.compile(r"^(?:nvidia-|amd-|intel-|geforce-)+")
# A GPU name with a count: "4xNVIDIA_L40S", "8 x H100", "2×A100-80GB" (vLLM --metadata gpu=...).
_GPU_COUNT = re.compile(r"^\s*(\d+)\s*[x×*]\s*(\S.*?)\s*$", re.IGNORECASE)
PLACEHOLDER_MODELS = frozenset(
    {"ensemble", "tensorrt_llm", "tensorrt_llm_bls", "preprocessing", "postprocessing"}
)
"""Model names that do not pin a model: Triton's TensorRT-LLM and BLS pipelines serve any model
under these names (genai-perf and AIPerf then write them as the model). An explicit ``model``
option replaces them (with a note); without one the import asks for it."""


def split_gpu_count(name: str) -> tuple[int | None, str]:
    """(count, GPU name) of a free-text GPU spelling: ``4xNVIDIA_L40S`` -> (4, ``NVIDIA_L40S``);
    a name without a count -> (None, name)."""
    match = _GPU_COUNT.match(name)
    if match is None:
        return None, name.strip()
    return int(match.group(1)), match.group(2)


def option_name(key: str) -> str:
    """The CLI option (or, for library-only keys, the keyword) that gives fact ``key``."""
    return _OPTION.get(key, f"{key}=...")


def _model_spelling(name: str) -> str:
    """A model name without a directory, a ``.gguf`` extension and its quantisation type."""
    text = name.strip()
    if text.lower().endswith(".gguf"):
        text = _GGUF_QUANT.sub("", text.rsplit("/", 1)[-1][: -len(".gguf")])
    return text


def catalog_id(key: str, name: str, *, as_is: bool = False) -> str | None:
    """The catalog id that ``name`` resolves to for fact ``key`` (``model``, ``gpu``, ``engine``,
    a dtype), or ``None`` when the catalog does not know it. A GGUF file name is looked up by
    the model name in it unless ``as_is``."""
    lookups: dict[str, Callable[[str], str]] = {
        "model": lambda n: get_model(n if as_is else _model_spelling(n)).id,
        "gpu": lambda n: get_accelerator(n).id,
        "engine": lambda n: get_engine(n).id,
        "weight_dtype": lambda n: get_quant_format(n).id,
        "kv_dtype": lambda n: get_quant_format(n).id,
    }
    if key not in lookups:
        return None
    try:
        return lookups[key](name)
    except UnknownNameError:
        return None


def _loose(key: str, value: object) -> str:
    """A spelling of ``value`` with case, organisation prefix and separators removed."""
    text = str(value)
    if key == "model":
        return family_key(_model_spelling(text))
    text = normalize(text)
    if key == "gpu":
        return _VENDOR.sub("", text)
    if key == "engine_version":
        return text.removeprefix("v")
    return text


def same_fact(key: str, file_value: object, option_value: object) -> bool:
    """Whether a file's ``file_value`` and a caller's ``option_value`` state the same fact.

    Counts compare as integers; names that the catalog resolves compare by catalog id (``H100``
    and ``H100-SXM-80GB`` agree), models also by family (``llama-3.1-8b`` and
    ``meta-llama/Llama-3.1-8B-Instruct`` agree); otherwise case, organisation prefix,
    separators and a GGUF quantisation suffix are ignored.
    """
    if key in _INT_FACTS:
        try:
            return int(float(str(file_value))) == int(float(str(option_value)))
        except ValueError:
            return False
    if _loose(key, file_value) == _loose(key, option_value):
        return True
    file_id, option_id = catalog_id(key, str(file_value)), catalog_id(key, str(option_value))
    return file_id is not None and file_id == option_id


def conflict_error(
    path: Path, where: str, key: str, file_value: object, option_value: object, detail: str = ""
) -> InputError:
    """The error for an option that contradicts what the file states about ``key``."""
    option = option_name(key)
    shown = str if key in _INT_FACTS else repr
    said = detail or f"{key} {shown(file_value)}"
    return input_error(
        path,
        where,
        f"the file says {said}, but {option} gives {shown(option_value)}; "
        f"drop {option} or fix the file",
    )


def agreed(
    path: Path, where: str, key: str, file_value: object, overrides: Mapping[str, object]
) -> object:
    """The value of fact ``key`` the file states, checked against the caller's option.

    Returns the file's value, or the option's spelling of the same fact when only that one is
    in the catalog (a GGUF file name vs ``--model llama-2-7b``).

    Raises:
        InputError: the option states a different ``key``.
    """
    option_value = overrides.get(key)
    if option_value is None:
        return file_value
    if not same_fact(key, file_value, option_value):
        raise conflict_error(path, where, key, file_value, option_value)
    if catalog_id(key, str(file_value), as_is=True) is None and catalog_id(
        key, str(option_value), as_is=True
    ):
        return option_value
    return file_value


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


def _is_stated(key: str, value: object) -> bool:
    if value is None or value == "":
        return False
    return not (key in ("weight_dtype", "kv_dtype") and str(value).lower() in _UNSTATED_DTYPES)


def resolve_config(
    path: Path,
    where: str,
    stated: Mapping[str, object],
    overrides: Overrides,
    *,
    tool: str,
    defaults: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Merge what the file ``stated`` with the caller's ``overrides``, which only fill gaps.

    ``defaults`` are used for facts neither gives (a llama-bench ``model_type`` when there is
    no model name). Returns the shared Measurement fields (``model``, ``gpu``, ``engine``,
    ``engine_version``, ``num_gpus``, ``tp``, ``pp``, ``ep``, ``weight_dtype``, ``kv_dtype``,
    ``source``, ``notes``); ``notes`` says when a default was assumed or when the model or a
    GPU the file names is not in the catalog (``calibrate fit`` cannot use such rows yet).

    Raises:
        InputError: ``model``, ``gpu`` or ``engine`` is stated neither in the file nor in the
            overrides (the message names the option that supplies it), or an override
            contradicts the file (names the field and both values).
        UnknownNameError: a ``gpu`` override that the catalog does not know (with candidates).
    """
    merged: dict[str, object] = {k: v for k, v in stated.items() if _is_stated(k, v)}
    notes: list[str] = []
    if "gpu" in merged:
        count, gpu_name = split_gpu_count(str(merged["gpu"]))
        if count is not None:
            merged["gpu"] = gpu_name
            if count < 1:
                raise input_error(path, where, f"GPU {stated['gpu']!r} names {count} GPUs")
            if "num_gpus" in merged and not same_fact("num_gpus", merged["num_gpus"], count):
                raise input_error(
                    path,
                    where,
                    f"the file says gpu {stated['gpu']!r} ({count} GPUs) but num_gpus "
                    f"{merged['num_gpus']}; fix the file",
                )
            merged["num_gpus"] = count
            notes.append(f"GPU {stated['gpu']!r} read as {count} x {gpu_name}")
    model_name = str(merged.get("model", ""))
    if model_name.strip().lower() in PLACEHOLDER_MODELS:
        if overrides.get("model") is None:
            raise input_error(
                path,
                where,
                f"the file names the model {model_name!r}, a Triton pipeline name that does "
                f"not say which model ran; give it with {_OPTION['model']}",
            )
        del merged["model"]
        notes.append(
            f"the file names the model {model_name!r} (a Triton pipeline, not a model); "
            f"{_OPTION['model']} {overrides['model']!r} used"
        )
    for key, value in overrides.items():
        if value is None:
            continue
        merged[key] = agreed(path, where, key, merged[key], overrides) if key in merged else value
    for key, value in (defaults or {}).items():
        if key not in merged and value not in (None, ""):
            merged[key] = value
    for key in ("model", "gpu", "engine"):
        if key not in merged:
            raise input_error(
                path,
                where,
                f"{tool} output does not state the {key}; give it with {_OPTION[key]} "
                f"(library: {key}=...)",
            )
    gpu, model = str(merged["gpu"]), str(merged["model"])
    if catalog_id("gpu", gpu) is None:
        if "gpu" not in stated or not _is_stated("gpu", stated["gpu"]):
            get_accelerator(gpu)  # raises UnknownNameError with the closest ids
        notes.append(
            f"GPU {gpu!r} is not in the catalog; calibrate fit cannot use these rows until "
            "it is added (catalog directory: INFERCOST_CATALOG_DIR)"
        )
    if catalog_id("model", model) is None:
        notes.append(
            f"model {model!r} is not in the catalog; add its config.json to a catalog "
            "directory (INFERCOST_CATALOG_DIR) before fitting"
        )
    parallel = {key: as_int(merged.get(key, 1), key, path, where) for key in ("tp", "pp", "ep")}
    assumed = [key for key in ("tp", "pp", "ep") if key not in merged]
    if assumed:
        notes.append(f"{', '.join(assumed)} not stated by the file or options; assumed 1")
    if "num_gpus" in merged:
        num_gpus = as_int(merged["num_gpus"], "num_gpus", path, where)
    else:
        num_gpus = parallel["tp"] * parallel["pp"]
    unit = parallel["tp"] * parallel["pp"]
    dp = as_int(merged.get("dp", 1), "dp", path, where)
    if "dp" not in merged and num_gpus > unit and num_gpus % unit == 0:
        # GPUs beyond one TP x PP unit run data-parallel replicas (vLLM --data-parallel-size,
        # replicas behind a gateway: the llm-d runs' decode_replicas)
        dp = num_gpus // unit
        notes.append(
            f"{num_gpus} GPUs with tp x pp = {unit}: read as {dp} data-parallel replicas "
            "(give --tp or --dp if the run used another layout)"
        )
    config: dict[str, object] = {
        "model": model,
        "gpu": gpu,
        "engine": str(merged["engine"]),
        "engine_version": str(merged.get("engine_version", "")),
        "num_gpus": num_gpus,
        **parallel,
        "dp": dp,
        "weight_dtype": str(merged.get("weight_dtype", stated.get("weight_dtype") or NOT_STATED)),
        "kv_dtype": str(merged.get("kv_dtype", stated.get("kv_dtype") or NOT_STATED)),
        "source": str(merged.get("source", str(path))),
        "notes": "; ".join(notes),
    }
    return config


def describe_load(mode: Mode, concurrency: int | None, rate_qps: float | None) -> str:
    """The load a file states, in words (for messages)."""
    if mode == "closed_loop":
        return f"a closed loop of {concurrency} clients"
    if mode == "static_batch":
        return f"a static batch of {concurrency}"
    if mode == "max_throughput":
        return "offline max throughput"
    rate = "infinite (all at once)" if rate_qps is None else f"{rate_qps:g} qps"
    cap = f" with at most {concurrency} in flight" if concurrency else ""
    return f"request rate {rate}{cap}"


def load_fact(
    path: Path,
    where: str,
    stated: tuple[Mode, int | None, float | None] | None,
    overrides: Overrides,
    default: tuple[Mode, int | None, float | None],
) -> tuple[Mode, int | None, float | None]:
    """(mode, concurrency, request_rate_qps): what the file ``stated`` (``None``: it does not say),
    else a closed loop of the caller's ``concurrency``, else ``default``.

    Raises:
        InputError: ``concurrency`` given for a file that states another load.
    """
    option = overrides.get("concurrency")
    if stated is None:
        return default if option is None else ("closed_loop", option, None)
    mode, concurrency, rate = stated
    if option is None or (
        mode in ("closed_loop", "static_batch") and concurrency == option and rate is None
    ):
        return stated
    raise conflict_error(
        path, where, "concurrency", concurrency, option, f"the load is {describe_load(*stated)}"
    )


def lengths(
    path: Path,
    where: str,
    overrides: Overrides,
    *,
    isl_mean: float | None,
    osl_mean: float | None,
    fixed: bool | None,
    dataset: str | None,
    label: str,
) -> tuple[int | None, int | None, str | None, str]:
    """(isl, osl, dataset, note) from a file's mean lengths; the caller's isl/osl/dataset only
    fill what the file does not state.

    ``fixed`` says whether the file shows every request had the same lengths (``None``: the
    file does not say); ``dataset`` is the dataset name the file states, ``label`` the words
    used when it names none. Varying lengths keep the rounded means in ``isl``/``osl`` and name
    the distribution in ``dataset``; an unknown case keeps the means and says so in the note.

    Raises:
        InputError: a caller's isl/osl differs from the file's (rounded) mean, or its dataset
            from the dataset the file names.
    """
    stated_isl = round(isl_mean) if isl_mean is not None else None
    stated_osl = round(osl_mean) if osl_mean is not None else None
    isl = (
        overrides.get("isl")
        if stated_isl is None
        else agreed(path, where, "isl", stated_isl, overrides)
    )
    osl = (
        overrides.get("osl")
        if stated_osl is None
        else agreed(path, where, "osl", stated_osl, overrides)
    )
    note = ""
    if "dataset" in overrides:
        if dataset:
            agreed(path, where, "dataset", dataset, overrides)
        return _opt_int(isl), _opt_int(osl), overrides["dataset"], note
    if fixed is False:
        varying = f"{dataset or label} (isl/osl are means per completed request)"
        return _opt_int(isl), _opt_int(osl), varying, note
    if fixed is None and ("isl" not in overrides or "osl" not in overrides):
        note = "isl/osl are means per completed request; the file does not say if they varied"
    return _opt_int(isl), _opt_int(osl), None, note


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def join_notes(*parts: str) -> str:
    """Non-empty parts joined with ``; ``."""
    return "; ".join(part for part in parts if part)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path.") from None
    except UnicodeDecodeError as err:  # the whole file is decoded at once: a file offset
        raise InputError(
            f"{path}: not UTF-8 text (byte {err.start}); pass a result file as the tool wrote it."
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
