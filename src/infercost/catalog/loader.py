"""Catalog loading: the only I/O in ``infercost.catalog``.

Reads the package data (``infercost/catalog/data``) with importlib.resources, plus any user
catalog directory named by ``INFERCOST_CATALOG_DIR`` (files of the same names; user rows add to
or replace package rows with the same id). Everything is validated on load; a bad row raises
:class:`~infercost.errors.CatalogError` naming the file, row and field. Loaded lazily, cached.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import json
import os
import tomllib
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from infercost.catalog.hf_config import arch_from_hf_config
from infercost.catalog.schema import (
    Accelerator,
    AchievedFigure,
    EngineProfile,
    ModelArch,
    QuantFormat,
)
from infercost.errors import CatalogError, InfercostError, InputError
from infercost.units import GIB, GIGA, TERA

_DATA = "infercost.catalog.data"
_USER_DIR_ENV = "INFERCOST_CATALOG_DIR"

#: PCIe x16 bandwidth per direction in bytes/s, by generation (PCI-SIG: 16 GT/s x16 ≈ 32 GB/s
#: for Gen4, 32 GT/s ≈ 64 GB/s for Gen5, Gen6 ≈ 128 GB/s). Used for TP over PCIe-only cards.
PCIE_X16_BYTES_S = {3: 16e9, 4: 32e9, 5: 64e9, 6: 128e9}


def _user_dirs() -> list[Path]:
    raw = os.environ.get(_USER_DIR_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p]


def _csv_rows(name: str) -> Iterator[tuple[str, int, dict[str, str]]]:
    """(file label, 1-based data row number, row) for the package file and user overrides."""
    text = resources.files(_DATA).joinpath(name).read_text("utf-8")
    for i, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=1):
        yield f"package:{name}", i, row
    for d in _user_dirs():
        path = d / name
        if path.is_file():
            with path.open("r", encoding="utf-8", newline="") as fh:
                for i, row in enumerate(csv.DictReader(fh), start=1):
                    yield str(path), i, row


def _num(row: dict[str, str], key: str, label: str, i: int) -> float | None:
    raw = (row.get(key) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as err:
        raise CatalogError(label, f"field {key!r} = {raw!r} is not a number", i) from err


def _validation_message(err: ValidationError, model: type[BaseModel] | None = None) -> str:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden" and model is not None:
        known = sorted(model.model_fields)
        close = difflib.get_close_matches(field, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown field {field!r}; {hint}valid fields: {', '.join(known)}"
    if first["type"] == "finite_number":
        return f"field {field!r} must be a finite number (not inf or nan)"
    if not field:  # a model-level check (e.g. a boolean where a number belongs)
        return str(first["msg"]).removeprefix("Value error, ")
    return f"field {field!r}: {first['msg']}"


def _accelerator(row: dict[str, str], label: str, i: int) -> Accelerator:
    flops: dict[str, float] = {}
    for dtype, key in (
        ("bf16", "bf16_dense_tflops"),
        ("fp8", "fp8_dense_tflops"),
        ("int8", "int8_dense_tops"),
        ("fp4", "fp4_dense_tflops"),
    ):
        value = _num(row, key, label, i)
        if value is not None:
            flops[dtype] = value * TERA
    # Accelerator memory is built from power-of-two DRAM parts, and vendors' "80 GB" is 80 GiB
    # (nvidia-smi shows 81559 MiB usable on an H100 80GB; NVIDIA aiconfigurator's system files
    # give "80GiB", "141GiB", "180GiB"; ROCm lists MI300X as 192 GiB; AWS Neuron docs say GiB).
    mem = _num(row, "memory_gib", label, i)
    bw = _num(row, "mem_bw_tbps", label, i)
    if mem is None or bw is None:
        raise CatalogError(label, "memory_gib and mem_bw_tbps are required", i)
    pcie = _num(row, "pcie", label, i)
    link = _num(row, "interconnect_gb_s_per_direction", label, i)
    domain = _num(row, "scale_up_domain", label, i)
    nic = _num(row, "nic_gbit_s_per_gpu", label, i)
    nic_lat = _num(row, "nic_latency_us", label, i)
    try:
        return Accelerator(
            id=row["id"].strip(),
            name=row["name"].strip(),
            vendor=row["vendor"].strip(),
            generation=row["generation"].strip(),
            memory_bytes=mem * GIB,
            mem_bw_bytes_s=bw * TERA,
            dense_flop_s=flops,
            tdp_w=_num(row, "tdp_w", label, i),
            interconnect=row.get("interconnect", "").strip(),
            interconnect_bytes_s=link * GIGA if link is not None else None,
            pcie_gen=int(pcie) if pcie is not None else None,
            scale_up_domain=int(domain) if domain is not None else None,
            nic_bytes_s=nic * GIGA / 8.0 if nic is not None else None,
            nic_latency_s=nic_lat * 1e-6 if nic_lat is not None else None,
            nic_source=row.get("nic_source", "").strip(),
            year=int(y) if (y := _num(row, "year", label, i)) is not None else None,
            list_price_usd=_num(row, "list_price_usd", label, i),
            price_source=row.get("price_source", "").strip(),
            aliases=tuple(a.strip() for a in row.get("aliases", "").split("|") if a.strip()),
            notes=row.get("notes", "").strip(),
            source=row.get("source", "").strip(),
            as_of=row.get("as_of", "").strip(),
        )
    except ValidationError as err:
        raise CatalogError(label, _validation_message(err), i) from err


@functools.cache
def load_accelerators() -> tuple[Accelerator, ...]:
    """Every accelerator in the catalog (package rows, then user rows replacing by id)."""
    by_id: dict[str, Accelerator] = {}
    for label, i, row in _csv_rows("accelerators.csv"):
        acc = _accelerator(row, label, i)
        by_id[acc.id] = acc
    return tuple(by_id.values())


@functools.cache
def load_achieved() -> tuple[AchievedFigure, ...]:
    """Measured accelerator figures (``achievable.csv``; user rows replace by GPU and kind).

    Raises:
        CatalogError: a bad row, or one naming a GPU the catalog does not hold.
    """
    ids = {a.id for a in load_accelerators()}
    links = {a.id: a.interconnect_bytes_s for a in load_accelerators()}
    by_key: dict[tuple[str, str], AchievedFigure] = {}
    for label, i, row in _csv_rows("achievable.csv"):
        try:
            fig = AchievedFigure.model_validate(
                {**row, "measured": _num(row, "measured", label, i)}
            )
        except ValidationError as err:
            raise CatalogError(label, _validation_message(err, AchievedFigure), i) from err
        if fig.gpu not in ids:
            raise CatalogError(label, f"gpu {fig.gpu!r} is not a catalog accelerator id", i)
        if fig.kind == "allreduce_busbw" and not links.get(fig.gpu):
            raise CatalogError(
                label,
                f"allreduce_busbw for {fig.gpu!r}, which has no scale-up link "
                "(interconnect_gb_s_per_direction): its collectives are costed on PCIe; drop "
                "the row or give the GPU its link in accelerators.csv",
                i,
            )
        by_key[(fig.gpu, fig.kind)] = fig
    return tuple(by_key.values())


def _quant_formats_from(data: dict[str, Any], label: str) -> dict[str, QuantFormat]:
    out = {}
    for key, body in data.items():
        try:
            out[key] = QuantFormat(id=key, **body)
        except ValidationError as err:
            raise CatalogError(label, f"[{key}] {_validation_message(err)}") from err
    return out


@functools.cache
def load_quant_formats() -> tuple[QuantFormat, ...]:
    """Every weight/KV storage format (``quant_formats.toml``)."""
    ref = resources.files(_DATA).joinpath("quant_formats.toml")
    formats = _quant_formats_from(
        tomllib.loads(ref.read_text("utf-8")), "package:quant_formats.toml"
    )
    for d in _user_dirs():
        path = d / "quant_formats.toml"
        if path.is_file():
            formats.update(_quant_formats_from(tomllib.loads(path.read_text("utf-8")), str(path)))
    return tuple(formats.values())


def _json_object(text: str, source: str, what: str = "config.json") -> dict[str, Any]:
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{source}: not valid JSON ({err.msg} at line {err.lineno}); pass a {what}."
        ) from err
    if not isinstance(cfg, dict):
        raise InputError(f"{source}: a {what} must hold one JSON object.")
    return cfg


def parse_model_config(
    text: str, model_id: str, source: str, as_of: date, quant_text: str | None = None
) -> ModelArch:
    """Parse the text of a ``config.json`` (and of a ModelOpt ``hf_quant_config.json`` found
    beside it, ``quant_text``) into a :class:`ModelArch`.

    Raises:
        InputError: the text is not a JSON object, the config lacks a required key, has an
            invalid value or a layer kind infercost does not model.
    """
    cfg = _json_object(text, source)
    quant = _json_object(quant_text, source, "hf_quant_config.json") if quant_text else None
    return arch_from_hf_config(cfg, model_id, source, as_of, quant)


def quant_config_beside(path: Path) -> Path | None:
    """The ModelOpt ``hf_quant_config.json`` of a checkpoint whose config is ``path``: the
    file of that name in the same folder (a downloaded repository), or ``<stem>.hf_quant_config
    .json`` beside a renamed ``<stem>.json``; None when there is none."""
    for candidate in (
        path.with_name("hf_quant_config.json") if path.name == "config.json" else None,
        path.with_name(f"{path.stem}.hf_quant_config.json"),
    ):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def load_model_config_file(path: str | Path) -> ModelArch:
    """A :class:`ModelArch` from a ``config.json`` on disk (``--model-config``).

    Raises:
        InputError: the file does not exist or is not a usable config.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"--model-config {str(p)!r} is a directory; pass its config.json file.")
    if not p.is_file():
        raise InputError(f"--model-config {str(p)!r} does not exist. Pass a config.json path.")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            f"--model-config {str(p)!r} is not UTF-8 text (byte {err.start}); pass a JSON "
            "config.json."
        ) from err
    stat_date = date.fromtimestamp(p.stat().st_mtime)
    quant_path = quant_config_beside(p)
    quant_text = quant_path.read_text("utf-8") if quant_path is not None else None
    model_id = p.parent.name if p.name == "config.json" and p.parent.name else p.stem
    source = f"{p}" + (f" + {quant_path.name}" if quant_path is not None else "")
    return parse_model_config(text, model_id, source, stat_date, quant_text)


@functools.cache
def load_models() -> tuple[ModelArch, ...]:
    """Every catalogued model, from ``models.csv`` + the verbatim ``models/*.json`` files."""
    models: dict[str, ModelArch] = {}
    folder = resources.files(_DATA).joinpath("models")
    for label, i, row in _csv_rows("models.csv"):
        file_name = row["file"].strip()
        quant_name = file_name.removesuffix(".json") + ".hf_quant_config.json"
        quant_text: str | None = None
        if label.startswith("package:"):
            text = folder.joinpath(file_name).read_text("utf-8")
            if folder.joinpath(quant_name).is_file():
                quant_text = folder.joinpath(quant_name).read_text("utf-8")
        else:
            text = (Path(label).parent / "models" / file_name).read_text("utf-8")
            user_quant = Path(label).parent / "models" / quant_name
            if user_quant.is_file():
                quant_text = user_quant.read_text("utf-8")
        try:
            as_of = date.fromisoformat(row["as_of"].strip())
        except ValueError as err:
            raise CatalogError(
                label, f"field 'as_of' = {row['as_of']!r} is not a date", i
            ) from err
        try:
            arch = parse_model_config(
                text, row["id"].strip(), row["source"].strip(), as_of, quant_text
            )
        except InfercostError as err:
            raise CatalogError(label, f"{file_name}: {err}", i) from err
        aliases = tuple(a.strip() for a in row.get("aliases", "").split("|") if a.strip())
        models[arch.id] = arch.model_copy(
            update={"aliases": aliases, "notes": row.get("notes", "")}
        )
    return tuple(models.values())


@functools.cache
def load_model_aliases() -> tuple[tuple[str, str, str], ...]:
    """(alias, target id, note with source) rows of ``model_aliases.csv``."""
    out = []
    for _label, _i, row in _csv_rows("model_aliases.csv"):
        note = f"{row.get('notes', '').strip()} Source: {row['source'].strip()} ({row['as_of']})"
        out.append((row["alias"].strip(), row["target"].strip(), note.strip()))
    return tuple(out)


@functools.cache
def load_engines(with_fits: bool = True) -> tuple[EngineProfile, ...]:
    """Every serving-engine profile: ``engines.toml`` (literature defaults), then the fitted
    ``engine_fits.toml`` and user files overriding by id (``with_fits=False``: defaults only)."""
    out: dict[str, EngineProfile] = {}
    # engines.toml holds full profiles; engine_fits.toml (written by `infercost calibrate fit`)
    # and user files may override some fields of an existing profile.
    files = ["engines.toml", "engine_fits.toml"] if with_fits else ["engines.toml"]
    sources = [
        (f"package:{name}", resources.files(_DATA).joinpath(name).read_text("utf-8"))
        for name in files
        if resources.files(_DATA).joinpath(name).is_file()
    ]
    sources += [
        (str(d / name), (d / name).read_text("utf-8"))
        for d in _user_dirs()
        for name in files
        if (d / name).is_file()
    ]
    for label, text in sources:
        try:
            tables = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise CatalogError(label, f"not valid TOML ({err})") from err
        for key, body in tables.items():
            base = out[key].model_dump(exclude={"id"}) if key in out else {}
            try:
                out[key] = EngineProfile(id=key, **{**base, **body})
            except ValidationError as err:
                raise CatalogError(label, f"[{key}] {_validation_message(err)}") from err
    return tuple(out.values())


def apply_engine_profile(engine: EngineProfile, path: str | Path) -> EngineProfile:
    """``engine`` with the fields of its table in the TOML file at ``path`` (a profile written
    by ``infercost calibrate fit``) applied on top.

    Raises:
        InputError: the file is missing, not TOML, has no table for this engine, or a field is
            invalid.
    """
    p = Path(path)
    try:
        exists = p.is_file()
    except OSError as err:  # a name too long for the file system, ...
        raise InputError(
            f"--profile {str(p)[:80]!r}...: cannot open it ({err.strerror})."
        ) from err
    if not exists:
        raise InputError(
            f"--profile {str(p)!r} does not exist; pass a file written by "
            "`infercost calibrate fit --out FILE`."
        )
    try:
        tables = tomllib.loads(p.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as err:
        raise InputError(f"--profile {str(p)!r} is not valid TOML ({err}).") from err
    known = {e.id for e in load_engines(with_fits=False)}
    unknown = [key for key in tables if key not in known]
    if unknown:
        raise InputError(
            f"--profile {str(p)!r} has table(s) for unknown engine(s) {', '.join(unknown)}; "
            f"known engines: {', '.join(sorted(known))}. Rename or remove the table."
        )
    if engine.id not in tables:
        raise InputError(
            f"--profile {str(p)!r} has no [{engine.id}] table (it has: "
            f"{', '.join(tables) or 'none'}); fit this engine or pick --engine accordingly."
        )
    try:
        return EngineProfile(**{**engine.model_dump(), **tables[engine.id], "id": engine.id})
    except ValidationError as err:
        raise InputError(
            f"--profile {str(p)!r}: {_validation_message(err, EngineProfile)}. Fix the value "
            "in the file or re-run `infercost calibrate fit`."
        ) from err
